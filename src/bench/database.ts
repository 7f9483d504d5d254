// The benchmark's PostgreSQL server: DATABASE_URL (an admin URL on a server we may create databases
// on) or an embedded PostgreSQL in a temporary directory. Every measurement gets its own scratch
// database, created here and dropped at the end, so phases never see each other's rows.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { redactUrl, withDatabase } from "../config/database-url.js";
import { openSession, withSession } from "../db/database.js";
import { startEmbeddedPostgres } from "../db/embedded/index.js";
import { migrate } from "../db/migrate.js";
import { onCleanup } from "./cleanup.js";

export interface BenchServer {
  kind: "DATABASE_URL" | "embedded";
  /** Redacted URL and version, for the report. */
  description: string;
  version: string;
  adminUrl: string;
  /** The server's postmaster, when it runs on this machine (for its CPU time). */
  postmasterPid: number | undefined;
  close(): Promise<void>;
}

/** First line of postmaster.pid in the data directory; undefined when it cannot be read here. */
async function readPostmasterPid(dataDir: string | undefined): Promise<number | undefined> {
  if (!dataDir) return undefined;
  try {
    const pid = Number.parseInt((await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "", 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withSession(url, work, { connectionTimeoutMillis: 10_000 });
}

export async function startBenchServer(databaseUrl: string | undefined, say: (line: string) => void): Promise<BenchServer> {
  if (databaseUrl) {
    const { version, dataDir } = await withClient(databaseUrl, async (c) => {
      const v = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      // Readable by superusers (and pg_read_all_settings); the file itself only if the server is local.
      const dir = await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d").then(
        (r) => r.rows[0]?.d,
        () => undefined,
      );
      return { version: v, dataDir: dir };
    });
    return {
      kind: "DATABASE_URL",
      description: `${redactUrl(databaseUrl)} (PostgreSQL ${version})`,
      version,
      adminUrl: databaseUrl,
      postmasterPid: await readPostmasterPid(dataDir),
      close: async () => {},
    };
  }
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-bench-pg-"));
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  const stop = onCleanup(async () => {
    try {
      await server?.stop();
    } finally {
      await fs.rm(tempDir, { recursive: true, force: true });
    }
  });
  try {
    // As root the server runs as the OS user "postgres", which must be able to enter the directory.
    if (process.getuid?.() === 0) await fs.chmod(tempDir, 0o755);
    say(`starting embedded PostgreSQL in ${tempDir}`);
    server = await startEmbeddedPostgres({ dataDir: path.join(tempDir, "pg") });
    const url = server.url;
    const version = await withClient(
      url,
      async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
    );
    return {
      kind: "embedded",
      description: `embedded PostgreSQL ${version} in ${tempDir}`,
      version,
      adminUrl: url,
      postmasterPid: await readPostmasterPid(server.dataDir),
      close: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every scratch database of this bench process is named bench_<label>_<pid>_<hex>. */
const ownDatabasesPattern = `bench\\_%\\_${process.pid}\\_%`;

/**
 * Lists the backends connected to this bench's own scratch databases, through one connection to
 * the admin database (itself not one of them, so never counted).
 */
export async function ownBackendLister(server: BenchServer): Promise<{ list(): Promise<number[]>; close(): Promise<void> }> {
  const { client, end } = await openSession(server.adminUrl, { connectionTimeoutMillis: 10_000 });
  const close = onCleanup(end);
  return {
    list: async () =>
      (await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname LIKE $1", [ownDatabasesPattern])).rows.map(
        (r) => r.pid,
      ),
    close,
  };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A fresh database on the server, migrated with the project's own migrations unless `empty`. */
export async function createScratchDatabase(
  server: BenchServer,
  label: string,
  options: { empty?: boolean } = {},
): Promise<ScratchDatabase> {
  const name = `bench_${label}_${process.pid}_${randomBytes(3).toString("hex")}`;
  await withClient(server.adminUrl, (c) => c.query(`CREATE DATABASE ${ident(name)}`));
  const url = withDatabase(server.adminUrl, name);
  const drop = onCleanup(() =>
    withClient(server.adminUrl, async (c) => {
      await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
      await c.query(`DROP DATABASE IF EXISTS ${ident(name)}`);
    }),
  );
  try {
    if (!options.empty) await migrate(url);
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
  return { name, url, drop };
}

/**
 * Flushes dirty buffers before a phase, so no phase pays for the previous one's checkpoint.
 * Needs superuser (or pg_checkpoint); skipped silently otherwise.
 */
export async function checkpoint(server: BenchServer): Promise<void> {
  await withClient(server.adminUrl, (c) => c.query("CHECKPOINT")).catch(() => {});
}

export async function queryOne<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T> {
  return withClient(url, async (c) => (await c.query<T>(sql, params)).rows[0]!);
}

export { withClient };
