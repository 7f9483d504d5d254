// The measured phases. Each returns what it did (rows, pages, checks); measure() wraps it with
// wall time, RSS, CPU and API requests.

import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { documentedMaxLimit, GenerectClient } from "../api/client.js";
import { findOldestTransaction } from "../api/oldest.js";
import { type Config, loadConfig } from "../config/index.js";
import { copyFrom } from "../db/copy.js";
import { migrationsDir } from "../db/paths.js";
import { createPrisma } from "../db/prisma.js";
import type { WritePath } from "../db/sql/transactions.js";
import { runSync, type SyncOptions, type SyncSummary } from "../job/run.js";
import { WindowWalks } from "../sync/pipeline.js";
import { WindowQueue } from "../sync/plan.js";
import { fromDate } from "../time.js";
import { onCleanup } from "./cleanup.js";
import { type BenchServer, createScratchDatabase, queryOne, withClient } from "./database.js";
import { legacyMigrations } from "./legacy-sql.js";
import { type BenchSimulator, copyRowColumns } from "./sim-host.js";

export const benchAccount = "bench";

export interface PhaseContext {
  server: BenchServer;
  sim: BenchSimulator;
  /** More of the job's environment (e.g. SYNC_WINDOW), applied to the sync and the API ceiling alike. */
  env: Record<string, string>;
  say(line: string): void;
}

/** The job's configuration, read the way the job reads it, pointed at the simulator and a database. */
export function benchConfig(context: Pick<PhaseContext, "sim" | "env">, databaseUrl: string | undefined, concurrency: number): Config {
  return loadConfig({
    ...context.env,
    GENERECT_API_TOKEN: context.sim.token,
    GENERECT_API_URL: context.sim.url,
    DATABASE_URL: databaseUrl,
    SYNC_ACCOUNT: benchAccount,
    SYNC_CONCURRENCY: String(concurrency),
  });
}

function clientFor(sim: BenchSimulator, config: Config): GenerectClient {
  return new GenerectClient({ baseUrl: sim.url, token: sim.token, timeoutMs: config.requestTimeoutMs, retries: config.retries });
}

export interface ApiCeilingResult {
  rows: number;
  pages: number;
  windows: number;
  pageSize: number;
}

/**
 * Every page of a first run's backfill, fetched with the sync's own client and walker (same windows,
 * same page size, same concurrency, same count re-reads), written nowhere.
 */
export async function apiCeiling(context: PhaseContext, concurrency: number): Promise<ApiCeilingResult> {
  const config = benchConfig(context, undefined, concurrency);
  const client = clientFor(context.sim, config);
  const oldest = await findOldestTransaction(client);
  const until = fromDate(new Date());
  const queue = new WindowQueue(oldest ?? until, until, { windowMs: config.windowMs, targetRows: config.windowRows });
  const result: ApiCeilingResult = { rows: 0, pages: 0, windows: 0, pageSize: documentedMaxLimit };
  // The sync's pipeline without the database: windows sized and started ahead as the sync does.
  const walks = new WindowWalks({ client, plan: queue, concurrency });
  try {
    for (let next = walks.next(); next; next = walks.next()) {
      next.first.open(async () => {});
      const walked = await next.first.result;
      if (walked.kind === "split") {
        queue.halve(next.window, walked.count);
        continue;
      }
      result.rows += walked.rows;
      result.pages += walked.pages;
      result.windows += 1;
    }
  } finally {
    await walks.stop(new Error("the phase stopped"));
  }
  result.pageSize = walks.pageSize;
  return result;
}

export interface DbCeilingResult {
  rows: number;
  method: string;
  bytes: number;
}

/** The COPY target, the DB ceiling: `transactions`' columns and primary key. */
const createCopyTargetSql = `CREATE TABLE bench_copy (LIKE transactions INCLUDING DEFAULTS, PRIMARY KEY (account, id))`;
const copyColumns = `${copyRowColumns}, first_seen_at, last_seen_at`;

export interface PreparedCopy {
  /** The COPY text. */
  file: string;
  bytes: number;
  database: { url: string; drop(): Promise<void> };
  cleanup(): Promise<void>;
}

/** Unmeasured set-up of the COPY phase: the COPY text on disk and the empty target table. */
export async function prepareDbCeiling(context: PhaseContext): Promise<PreparedCopy> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-bench-copy-"));
  const removeDir = onCleanup(() => fs.rm(dir, { recursive: true, force: true }));
  const seenAt = new Date().toISOString();
  const file = path.join(dir, "transactions.copy");
  await context.sim.writeCopyFile(file, benchAccount, [seenAt, seenAt]);
  const database = await createScratchDatabase(context.server, "copy");
  // A regular (logged) table: the same durability as the real one.
  await withClient(database.url, (c) => c.query(createCopyTargetSql));
  const { size } = await fs.stat(file);
  return {
    file,
    bytes: size,
    database,
    cleanup: async () => {
      await database.drop().catch(() => {});
      await removeDir();
    },
  };
}

/** COPY ... FROM STDIN of every ledger row (raw included) into the copy target, one statement. */
export async function dbCeiling(prepared: PreparedCopy): Promise<DbCeilingResult> {
  const rows = await withClient(prepared.database.url, (client) =>
    copyFrom(client, `COPY bench_copy (${copyColumns}) FROM STDIN`, createReadStream(prepared.file, { highWaterMark: 256 * 1024 })),
  );
  return { rows, method: "one text-format copy from stdin into bench_copy", bytes: prepared.bytes };
}

/**
 * A scratch database of the previous release's shape (transactions keyed on id, every version in a
 * transaction_versions table), for its write path (src/bench/legacy-sql.ts) to backfill.
 */
export async function createPreviousDatabase(server: BenchServer): Promise<Awaited<ReturnType<typeof createScratchDatabase>>> {
  const db = await createScratchDatabase(server, "previous", { empty: true });
  try {
    for (const name of legacyMigrations) {
      const sql = await fs.readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");
      await withClient(db.url, (c) => c.query(sql));
    }
  } catch (error) {
    await db.drop().catch(() => {});
    throw error;
  }
  return db;
}

/** Bytes on disk of a database's tables, indexes and TOAST included: in all, and per table. */
export interface DiskBytes {
  total: number;
  byTable: Record<string, number>;
}

/**
 * Every table of the schema, whichever shape the database has: the ledger and its history, and what
 * grows with them besides (the rollups, the proof chain, the spent credits), so that a schema is
 * never measured without a table it added.
 */
export async function diskBytes(databaseUrl: string): Promise<DiskBytes> {
  const rows = await withClient(
    databaseUrl,
    async (c) =>
      (
        await c.query<{ name: string; bytes: string }>(
          `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c
         WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace ORDER BY pg_total_relation_size(c.oid) DESC, c.relname`,
        )
      ).rows,
  );
  const byTable = Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
  return { total: Object.values(byTable).reduce((a, b) => a + b, 0), byTable };
}

/** "transactions 612, ledger_rollups 36, ...": the tables over 1 MB, largest first, in MB. */
export function diskBytesText(bytes: DiskBytes): string {
  const mb = (n: number) => (n / 1048576).toFixed(0);
  const large = Object.entries(bytes.byTable).filter(([, n]) => n >= 1048576);
  return `${mb(bytes.total)} MB on disk (${large.map(([name, n]) => `${name} ${mb(n)}`).join(", ")})`;
}

const silent = pino({ level: "silent" });

export interface SyncRunOptions {
  concurrency: number;
  /** false: skip runSync's spent-credit snapshot pass. */
  snapshots: boolean;
  config?: Partial<Config>;
  /** The previous release's statements, into a database of its shape (createPreviousDatabase). */
  writePath?: WritePath;
}

/** One run of the job (runSync, as `generect-sync run` calls it), and nothing else: this is what is measured. */
export async function syncOnce(context: PhaseContext, databaseUrl: string, options: SyncRunOptions): Promise<SyncSummary> {
  const config = { ...benchConfig(context, databaseUrl, options.concurrency), ...options.config };
  const passes: Partial<SyncOptions> = options.snapshots ? {} : ({ snapshots: false } as Partial<SyncOptions>);
  return runSync({ config, databaseUrl, log: silent, command: "bench", writePath: options.writePath, ...passes });
}

/** Live rows and versions the account holds (checked after a measured run, outside the measurement). */
export async function heldCounts(databaseUrl: string): Promise<{ rows: number; versions: number }> {
  return queryOne<{ rows: number; versions: number }>(
    databaseUrl,
    `SELECT (SELECT count(*) FROM transactions WHERE account = $1 AND deleted_at IS NULL)::int AS rows,
            (SELECT count(*) FROM transaction_versions WHERE account = $1)::int AS versions`,
    [benchAccount],
  );
}

/** Rows the account holds created at or after the last run's planned start (watermark_from - lookback). */
export async function rowsInLastLookback(databaseUrl: string, lookbackMs: number): Promise<number> {
  const row = await queryOne<{ n: number }>(
    databaseUrl,
    `SELECT count(*)::int AS n FROM transactions
     WHERE account = $1 AND created_at >= (SELECT watermark_from FROM sync_runs WHERE account = $1 ORDER BY id DESC LIMIT 1) - $2 * interval '1 millisecond'`,
    [benchAccount, lookbackMs],
  );
  return row.n;
}

export interface NaiveResult {
  rows: number;
  pages: number;
}

/**
 * What the design suggests at first reading: page through the endpoint one request at a time and
 * upsert each row with Prisma, one statement (and round trip) per row.
 */
export async function naive(context: PhaseContext, databaseUrl: string, target: number): Promise<NaiveResult> {
  const config = benchConfig(context, databaseUrl, 1);
  const client = clientFor(context.sim, config);
  const prisma = createPrisma(databaseUrl);
  const seenAt = new Date();
  let rows = 0;
  let pages = 0;
  try {
    for (let offset = 0; rows < target; ) {
      const page = await client.listAllTransactions(documentedMaxLimit, offset);
      pages += 1;
      if (page.rows.length === 0) break;
      offset += page.rows.length;
      for (const row of page.rows.slice(0, target - rows)) {
        const data = {
          account: benchAccount,
          createdAt: new Date(Math.floor(row.createdAt / 1000)),
          updatedAt: row.updatedAt === null ? null : new Date(Math.floor(row.updatedAt / 1000)),
          status: row.status,
          balanceType: row.balanceType,
          amount: row.amount,
          description: row.description,
          afterBalance: row.afterBalance,
          raw: row.raw,
          lastSeenAt: seenAt,
        };
        await prisma.transaction.upsert({
          where: { account_id: { account: benchAccount, id: row.id } },
          create: { id: row.id, ...data, firstSeenAt: seenAt },
          update: data,
        });
        rows += 1;
      }
    }
  } finally {
    await prisma.$disconnect();
  }
  return { rows, pages };
}
