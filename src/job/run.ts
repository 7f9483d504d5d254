import type pg from "pg";
import { type ClientOptions, GenerectClient } from "../api/client.js";
import type { Config } from "../config/index.js";
import { requireToken } from "../config/index.js";
import { Database, inTransaction, type Queryable } from "../db/database.js";
import { withConnectionRetry } from "../db/retry.js";
import { setHeadDigestSql } from "../db/sql/sync-runs.js";
import { oldestLiveSql, type WritePath, writePath } from "../db/sql/transactions.js";
import { readWatermarkSql } from "../db/sql/watermarks.js";
import type { DatabaseStep } from "../db/step.js";
import { InterruptedError, interruption, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import { scrubSecrets } from "../log.js";
import { chainHead } from "../proofs/chain.js";
import { captureCheckpoint } from "../proofs/checkpoint.js";
import { captureSnapshots, type SnapshotStats } from "../snapshots/capture.js";
import { beginFirstRun } from "../sync/first-run.js";
import { FixedWindows, type PipelineSettings, WindowPipeline } from "../sync/pipeline.js";
import { isInstant, planStart, type Window, WindowQueue } from "../sync/plan.js";
import { ensureRollupZone } from "../sync/rollups.js";
import { transactionsStream, type WindowStats } from "../sync/window.js";
import { asMicros, earliest, formatInstant, fromDate, type Micros } from "../time.js";
import { type AccountLock, acquireAccountLock, type LockSession } from "./lock.js";
import { finishRun, finishRunOnFreshConnection, markAbandonedRuns, startRun } from "./run-record.js";

export interface SyncOptions {
  config: Config;
  databaseUrl: string;
  log: Logger;
  signal?: AbortSignal;
  /** Recorded in sync_runs.command. @default "run" */
  command?: string;
  /** `run --full`: walk the whole history, not only from the watermark minus the lookback. @default false */
  full?: boolean;
  /** Capture spent-credit snapshots after the transactions pass. @default true */
  snapshots?: boolean;
  /** For the bench's comparison with the previous release: its statements, into a database of its shape. @default writePath */
  writePath?: WritePath;
  /** For tests and benchmarks: faster retries and the like. */
  clientOptions?: Partial<ClientOptions>;
  maxRowsPerWindow?: number;
  maxWalks?: number;
  /** For tests: reconnect attempts per window before DB_UNAVAILABLE. @default 8 (see db/retry.ts) */
  databaseRetries?: number;
  /**
   * A shared Database (a fleet's pool, a worker's across its ticks): the run takes its connections
   * from it and leaves it open. Without one the run opens its own and closes it.
   */
  database?: Database;
  /** A fleet's one connection for its accounts' locks and their runs' end records. */
  locks?: LockSession;
  /** A fleet's shared request limiter (see ClientOptions.requestSlot). */
  requestSlot?: ClientOptions["requestSlot"];
  /** Told when a window takes and gives back its connection (WindowCommitContext.holding). */
  holding?: (held: boolean) => void;
  /** Progress callbacks for a TTY display. */
  progress?: {
    /** `rows`: what the API counted, on a first run. */
    planned(from: Micros, until: Micros, rows?: number): void;
    page(rows: number, pages?: number): void;
    window(stats: WindowStats): void;
  };
}

export interface SyncSummary {
  runId: string;
  windows: number;
  pages: number;
  rowsSeen: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Windows committed although the API's count disagreed with two complete walks (sync_runs.count_mismatches). */
  countMismatches: number;
  /** Rows that cannot be transactions, kept in quarantined_rows (their windows still committed). */
  rejected: number;
  apiRequests: number;
  retries: number;
  /** API responses that carried a `Deprecation` or `Sunset` header. */
  deprecatedResponses: number;
  watermark: Micros | undefined;
  snapshots: SnapshotStats | undefined;
  /** The proof chain's head when the run ended (see proofs/chain.ts); logged, printed and recorded. */
  headDigest: string;
  /** users/me at the start of the run: captured, or missing (never a failure). */
  checkpoint: "captured" | "missing";
}

/** What a pass of a run works with: the run's row, its lock, its pool and its API client. */
interface RunContext {
  options: SyncOptions;
  pool: pg.Pool;
  lock: AccountLock;
  client: GenerectClient;
  runId: string;
  log: Logger;
  /** Runs a step on the database outside the windows, retried as a window's statements are. */
  onDatabase: DatabaseStep;
}

async function readOldestLive(db: Queryable, account: string): Promise<Micros | undefined> {
  const { oldest } = (await db.query<{ oldest: string | null }>(oldestLiveSql, [account])).rows[0]!;
  return oldest === null ? undefined : asMicros(Number(oldest));
}

/** The account's transactions watermark: every row created before it was walked by an earlier run. */
export async function readWatermark(db: Queryable, account: string): Promise<Micros | undefined> {
  const { rows } = await db.query<{ watermark: string }>(readWatermarkSql, [account, transactionsStream]);
  return rows[0] ? asMicros(Number(rows[0].watermark)) : undefined;
}

/**
 * The frame of every run: take the account's lock, mark runs a killed process left `running`,
 * open a sync_runs row, run the passes, and record how it ended (with no secret in the message).
 * Every step that talks to Postgres outlasts a short outage (a refusal is retried like a lost
 * connection), and the end is recorded on a connection opened for it, so a run that ends by itself
 * never leaves its row `running`.
 */
async function withRun<T>(options: SyncOptions, command: string, body: (run: RunContext) => Promise<T>): Promise<T> {
  const { config, log, signal } = options;
  const token = requireToken(config);
  const reconnecting = (step: string) => (error: Error, attempt: number) =>
    log.warn({ runId, attempt, err: scrubSecrets(error.message, [token]) }, `the database is unavailable: retrying ${step}`);
  let runId: string | undefined;
  const { locks } = options;
  const lock = await withConnectionRetry(
    () => (locks ? locks.acquire(config.account) : acquireAccountLock(options.databaseUrl, config.account)),
    { signal, onRetry: reconnecting("the lock") },
  );
  const database = options.database ?? new Database(options.databaseUrl);
  const { pool } = database;
  const client = new GenerectClient({
    baseUrl: config.apiUrl,
    token,
    timeoutMs: config.requestTimeoutMs,
    retries: config.retries,
    maxResponseBytes: config.maxResponseBytes,
    signal,
    requestSlot: options.requestSlot,
    onRetry: ({ attempt, reason, delayMs }) => log.warn({ runId, attempt, delayMs }, `retrying: ${reason}`),
    // Once per run: the endpoint still answers, but the operator must learn before its Sunset date.
    onDeprecation: (notice) =>
      log.warn(
        { runId, ...notice },
        `the API marks ${notice.path} as deprecated${notice.sunset ? ` (sunset ${notice.sunset})` : ""}: check Generect's changelog before it stops answering`,
      ),
    ...options.clientOptions,
  });
  const finish = (id: string, outcome: Omit<Parameters<typeof finishRunOnFreshConnection>[2], "apiRequests" | "retries">) =>
    withConnectionRetry(
      () => {
        const record = { ...outcome, apiRequests: client.stats.requests, retries: client.stats.retries };
        return locks ? locks.record((db) => finishRun(db, id, record)) : finishRunOnFreshConnection(options.databaseUrl, id, record);
      },
      // Under a shutdown signal the grace period is short: a few attempts, then the next run marks it.
      { retries: signal?.aborted ? 2 : undefined, onRetry: reconnecting("the run's record") },
    );
  try {
    runId = await withConnectionRetry(
      async () => {
        await lock.reassert();
        return startRun(pool, config.account, command, await readWatermark(pool, config.account));
      },
      { signal, onRetry: reconnecting("the start of the run") },
    );
    const runLog = log.child({ runId });
    const id = runId;
    const abandoned = await withConnectionRetry(() => markAbandonedRuns(pool, config.account, id), { signal });
    if (abandoned.length) runLog.warn({ runs: abandoned }, "marked runs left running by a killed process as interrupted");
    const onDatabase = databaseStep(options, lock, runLog);
    const result = await body({ options, pool, lock, client, runId, log: runLog, onDatabase });
    await finish(id, { status: "succeeded" });
    return result;
  } catch (caught) {
    const error = interruption(signal) ?? caught;
    if (runId !== undefined) {
      const message = scrubSecrets(error instanceof Error ? error.message : String(error), [token]);
      await finish(runId, {
        status: error instanceof InterruptedError ? "interrupted" : "failed",
        errorCode: error instanceof SyncError ? error.code : ((error as { code?: string }).code ?? "UNEXPECTED"),
        errorMessage: message,
      }).catch((finishError: unknown) =>
        log.error(
          { runId, err: scrubSecrets((finishError as Error).message, [token]) },
          "could not record the run's end: the next run marks it interrupted",
        ),
      );
      // A fleet's summary names the failed run's row (fleet.ts).
      if (error instanceof Error && !("runId" in error)) Object.assign(error, { runId });
    }
    throw error;
  } finally {
    if (!options.database) await database.close();
    await lock.release();
  }
}

/** The transactions pass: windows from the watermark to the run's start, walked and committed one by one. */
async function syncTransactions(run: RunContext, summary: SyncSummary): Promise<void> {
  const { options, pool, client, log, onDatabase } = run;
  const { config } = options;
  const runStart = fromDate(new Date());
  // --full plans as a first run would: the whole history, for changes older than the lookback.
  const watermark = options.full ? undefined : await onDatabase("reading the watermark", () => readWatermark(pool, config.account));
  const first =
    watermark === undefined && config.start === undefined ? await beginFirstRun(client, runStart, config.windowRows) : undefined;
  const apiOldest = first?.kind === "whole" ? first.window.from : first?.kind === "searched" ? first.oldest : undefined;
  // A walk of the whole history starts at the oldest row either side lists: a row held live from
  // before the API's oldest was deleted upstream, and only a walk of its window proves it (the
  // whole-history window already starts in 1900).
  const heldOldest =
    first !== undefined && first.kind !== "whole"
      ? await onDatabase("reading the oldest row", () => readOldestLive(pool, config.account))
      : undefined;
  const oldest = earliest(apiOldest, heldOldest);
  const from = planStart({ watermark, lookbackMs: config.lookbackMs, start: config.start, oldest });
  // Rows the API counted for a first run: the progress display follows them (its spans say little there).
  const expectedRows = first?.kind === "whole" ? first.page.count : first?.kind === "searched" ? first.rows : undefined;
  log.info(
    { from: from === undefined ? null : formatInstant(from), until: formatInstant(runStart) },
    from === undefined ? "the account has no transactions yet" : "planned",
  );
  if (from !== undefined) options.progress?.planned(from, runStart, expectedRows);

  const plan = new WindowQueue(from ?? runStart, runStart, { windowMs: config.windowMs, targetRows: config.windowRows });
  // A first run's count sizes its first window rather than SYNC_WINDOW's guess: the whole history
  // when it fits one window (its page 0 already in hand), else by the density the search for the
  // oldest row counted. Each window costs requests no page shares: its closing request, its partial last page.
  if (from !== undefined && expectedRows !== undefined) plan.observe({ from, to: runStart }, expectedRows);
  const pipeline = new WindowPipeline({
    ...pipelineSettings(run),
    plan,
    onPage: (rows: number, pages: number) => options.progress?.page(rows, pages),
    known: {},
    head: first?.kind === "whole" ? first : undefined,
  });
  for await (const event of pipeline) {
    const { window } = event;
    const span = [formatInstant(window.from), formatInstant(window.to)];
    if (event.kind === "split") {
      if (event.reason === "too large") log.debug({ count: event.count }, "window too large for one transaction: halved");
      else if (event.parts)
        log.info(
          { window: span, instant: formatInstant(event.parts.find(isInstant)!.from) },
          "window did not settle and rows of one instant straddled two pages: rolled back, walking that instant on its own",
        );
      else
        log.info(
          { window: span, count: event.count },
          "window did not settle (rows moved during the walk): rolled back, walking its halves",
        );
      continue;
    }
    const s = event.stats;
    summary.windows += 1;
    summary.pages += s.pages;
    summary.rowsSeen += s.rows;
    summary.inserted += s.inserted;
    summary.updated += s.updated;
    summary.unchanged += s.unchanged;
    summary.deleted += s.deleted;
    summary.rejected += s.rejected;
    summary.watermark = window.to;
    if (s.countMismatch) {
      summary.countMismatches += 1;
      log.warn(
        { window: span, counted: s.countMismatch.counted, walked: s.countMismatch.walked },
        `the API counted ${s.countMismatch.counted} rows in the window but two complete walks returned the same ${s.countMismatch.walked}: committed on the walks' evidence`,
      );
    }
    options.progress?.window(s);
    log.info(
      {
        window: span,
        count: s.count,
        pages: s.pages,
        walks: s.walks,
        inserted: s.inserted,
        updated: s.updated,
        unchanged: s.unchanged,
        deleted: s.deleted,
      },
      "window committed",
    );
    if (s.rejected > 0) {
      // The window still committed: one odd row must not stop the ledger, but someone should look.
      const reasons = [...new Set(s.rejectedCodes)];
      log.warn(
        { window: span, rejected: s.rejected, reasons },
        `${s.rejected} row(s) were quarantined instead of stored (table quarantined_rows): ${reasons.join(", ")}`,
      );
    }
  }
}

/** What every pass's window pipeline shares: the run's pool, client, lock and limits. */
function pipelineSettings(run: RunContext): Omit<PipelineSettings, "plan"> {
  const { options, pool, lock, client, runId, log } = run;
  const { config, signal } = options;
  return {
    pool,
    client,
    account: config.account,
    runId,
    seenAt: new Date(),
    writePath: options.writePath,
    concurrency: config.concurrency,
    signal,
    maxRowsPerWindow: options.maxRowsPerWindow,
    maxWalks: options.maxWalks,
    databaseRetries: options.databaseRetries,
    holding: options.holding,
    reassert: () => lock.reassert(),
    onReconnect: (error, attempt) => log.warn({ attempt, err: error.message }, "lost the database connection: retrying the window"),
  };
}

/**
 * The run's steps on the database outside its windows (which retry on their own): a lost or refused
 * connection is retried as a window's is, the account's lock taken again first if it went with its
 * connection. Each step is safe to repeat.
 */
function databaseStep(options: SyncOptions, lock: AccountLock, log: Logger): DatabaseStep {
  return (what, work) =>
    withConnectionRetry(
      async () => {
        await lock.reassert();
        return work();
      },
      {
        signal: options.signal,
        retries: options.databaseRetries,
        onRetry: (error, attempt) => log.warn({ attempt, err: error.message }, `lost the database connection: retrying ${what}`),
      },
    );
}

/** The chain head, recorded on the run and logged: a log collector keeps it outside the database. */
async function recordHead(run: RunContext): Promise<string> {
  const { head, links } = await run.onDatabase("the chain head", async () => {
    const chain = await chainHead(run.pool, run.options.config.account);
    await run.pool.query(setHeadDigestSql, [run.runId, chain.head]);
    return chain;
  });
  run.log.info({ headDigest: head, links }, "proof chain head");
  return head;
}

/**
 * `verify --repair`: walks exactly the given windows again through the normal window pipeline (the
 * same checks, versions and chain links as any run), in a run of its own under the account's lock.
 */
export async function runRepair(
  options: SyncOptions,
  windows: Window[],
): Promise<{ runId: string; committed: number; headDigest: string }> {
  return withRun(options, "repair", async (run) => {
    let committed = 0;
    for await (const event of new WindowPipeline({ ...pipelineSettings(run), plan: new FixedWindows(windows) })) {
      if (event.kind === "split") continue;
      committed += 1;
      const { window, stats } = event;
      run.log.info(
        {
          window: [formatInstant(window.from), formatInstant(window.to)],
          inserted: stats.inserted,
          updated: stats.updated,
          deleted: stats.deleted,
        },
        "window repaired",
      );
    }
    return { runId: run.runId, committed, headDigest: await recordHead(run) };
  });
}

function snapshotPass(run: RunContext): Promise<SnapshotStats> {
  const { config, signal } = run.options;
  return captureSnapshots({
    pool: run.pool,
    client: run.client,
    account: config.account,
    timezone: config.timezone,
    restateDays: config.restateDays,
    start: config.start,
    maxResponseBytes: config.maxResponseBytes,
    runId: run.runId,
    capturedAt: new Date(),
    log: run.log,
    signal,
    rollups: run.options.writePath?.rollups !== false,
    onDatabase: run.onDatabase,
  });
}

/**
 * The zones of SYNC_ROLLUP_ZONES get daily rollups for the account (built from its buckets the
 * first time, then kept by every window): ledger_days(zone) then reads days, not every bucket.
 * Under the run's account lock, so no window of another run changes buckets meanwhile.
 */
async function registerRollupZones(run: RunContext): Promise<void> {
  const { account, rollupZones } = run.options.config;
  if (rollupZones.length === 0) return;
  await run.onDatabase("the rollup zones", () =>
    inTransaction(run.pool, async (db) => {
      for (const zone of rollupZones) await ensureRollupZone(db, account, zone);
    }),
  );
}

/** One sync pass: transactions, then (by default) the spent-credit snapshots, in one recorded run. */
export async function runSync(options: SyncOptions): Promise<SyncSummary> {
  return withRun(options, options.command ?? "run", async (run) => {
    const summary: SyncSummary = {
      runId: run.runId,
      windows: 0,
      pages: 0,
      rowsSeen: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      rejected: 0,
      countMismatches: 0,
      apiRequests: 0,
      retries: 0,
      deprecatedResponses: 0,
      watermark: undefined,
      snapshots: undefined,
      headDigest: "",
      checkpoint: "missing",
    };
    // Before the transactions pass: the capture then lies before the watermark this run reaches,
    // so verify can judge it against a ledger complete up to it.
    const proofs = (options.writePath ?? writePath).proofs;
    if (proofs) {
      const checkpoint = await captureCheckpoint(run.pool, run.client, {
        account: options.config.account,
        runId: run.runId,
        signal: options.signal,
        onDatabase: run.onDatabase,
      });
      summary.checkpoint = checkpoint.outcome;
      if (checkpoint.outcome === "missing")
        run.log.warn({ code: checkpoint.errorCode }, "users/me balances could not be read: checkpoint recorded as missing");
    }
    if ((options.writePath ?? writePath).rollups !== false) await registerRollupZones(run);
    await syncTransactions(run, summary);
    if (proofs) summary.headDigest = await recordHead(run);
    if (options.snapshots !== false) {
      const interrupted = interruption(options.signal);
      if (interrupted) throw interrupted;
      summary.snapshots = await snapshotPass(run);
    }
    summary.apiRequests = run.client.stats.requests;
    summary.retries = run.client.stats.retries;
    summary.deprecatedResponses = run.client.deprecatedResponses;
    return summary;
  });
}

/** Only the spent-credit snapshots (`generect-sync snapshot`), recorded as a run of its own. */
export async function runSnapshot(
  options: SyncOptions,
): Promise<SnapshotStats & { runId: string; apiRequests: number; retries: number; deprecatedResponses: number }> {
  return withRun(options, "snapshot", async (run) => ({
    ...(await snapshotPass(run)),
    runId: run.runId,
    apiRequests: run.client.stats.requests,
    retries: run.client.stats.retries,
    deprecatedResponses: run.client.deprecatedResponses,
  }));
}
