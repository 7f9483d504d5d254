import { RequestSlots } from "../api/request-slots.js";
import type { FleetAccount } from "../config/accounts.js";
import { Database } from "../db/database.js";
import { withConnectionRetry } from "../db/retry.js";
import { LockedError, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { LiveMetrics } from "../metrics/live.js";
import { fleetBudget } from "./fleet-budget.js";
import { LockSession } from "./lock.js";
import { runSnapshot, runSync, type SyncOptions, type SyncSummary } from "./run.js";
import { withRunMetrics } from "./run-metrics.js";
import { finishRun, startRun } from "./run-record.js";
import type { VerifyReport } from "./verify.js";

/**
 * run and snapshot: a recorded run per account. verify: every proof of each account (`verify
 * --all`); sweep: the audit sweep alone, recorded in audit_sweeps (the fleet worker's VERIFY_CRON).
 * verify and sweep hold the account's lock while they count, so they never judge a window a sync
 * of the same account is rewriting (an account whose lock is held elsewhere is skipped).
 */
export type FleetPass = "run" | "snapshot" | "verify" | "sweep";

export interface FleetOptions {
  accounts: FleetAccount[];
  databaseUrl: string;
  log: Logger;
  signal?: AbortSignal;
  pass: FleetPass;
  /** SYNC_CONCURRENCY: API requests in flight across all accounts. */
  concurrency: number;
  /** SYNC_DB_CONNECTIONS: connections the fleet opens, locks included. */
  dbConnections: number;
  /** For tests: faster retries. */
  clientOptions?: SyncOptions["clientOptions"];
  /** The worker's live /metrics: each account's run is recorded under its own label. */
  metrics?: LiveMetrics;
  /**
   * A Database to reuse (the worker's, across its passes), sized to the budget's pool (see
   * fleetPoolSize) and left open; without one the pass opens its own and closes it.
   */
  database?: Database;
  /** Called as each account ends (the CLI prints a line, the worker logs it). */
  onOutcome?: (outcome: AccountOutcome) => void;
  /** `run --full --all`: every account walks its whole history. */
  full?: boolean;
  /** `verify --all --repair`: each account walks its differing windows again (a repair run of its own). */
  repair?: boolean;
}

export interface AccountOutcome {
  account: string;
  /** skipped: another process holds the account's lock (not a failure). */
  status: "succeeded" | "failed" | "skipped" | "interrupted";
  runId?: string;
  /** The run's summary line: rows and requests, or why it failed. */
  detail: string;
  code?: string;
  summary?: SyncSummary;
  /** verify: the account's report. */
  report?: VerifyReport;
}

function describe(summary: SyncSummary): string {
  return `${summary.rowsSeen} rows seen (${summary.inserted} inserted, ${summary.updated} updated, ${summary.deleted} deleted), ${summary.apiRequests} API requests`;
}

/**
 * Syncs every account of the fleet, each as its own run (its lock, its sync_runs row, its
 * watermark), under one budget: one request limiter for all the accounts' API calls, one
 * connection for all their locks, one pool for their database work, and a bounded number of
 * accounts in flight (see budget.ts). An account
 * that fails is recorded and reported; the others go on. Resolves with one outcome per account,
 * in the file's order.
 */
export async function runFleet(options: FleetOptions): Promise<AccountOutcome[]> {
  const { accounts, log, signal } = options;
  const budget = fleetBudget(options.dbConnections, options.concurrency, accounts.length);
  // SYNC_CONCURRENCY requests in flight across the accounts; those of a window holding a pool
  // connection first, so the pool turns over (see request-slots.ts).
  const slots = new RequestSlots(options.concurrency);
  const database = options.database ?? new Database(options.databaseUrl, { max: budget.pool });
  const locks = new LockSession(options.databaseUrl);
  log.info(
    { accounts: accounts.length, accountsInFlight: budget.accountsInFlight, pool: budget.pool, concurrency: options.concurrency },
    "fleet started",
  );
  const outcomes: AccountOutcome[] = new Array(accounts.length);
  let next = 0;

  const one = async (account: FleetAccount): Promise<AccountOutcome> => {
    const name = account.name;
    if (signal?.aborted) return { account: name, status: "interrupted", detail: "not started: the fleet was stopped" };
    if (account.tokenError) return tokenUnusable(account);
    const accountLog = log.child({ account: name });
    const { slot: requestSlot, holding } = slots.lane();
    const sync: SyncOptions = {
      config: account.config,
      databaseUrl: options.databaseUrl,
      log: accountLog,
      signal,
      database,
      locks,
      requestSlot,
      holding,
      command: options.pass,
      clientOptions: options.clientOptions,
      full: options.full,
    };
    try {
      if (options.pass === "verify" || options.pass === "sweep") return await audit(account, sync);
      if (options.pass === "snapshot") {
        const result = await withRunMetrics(account.config, "snapshot", accountLog, () => runSnapshot(sync), options.metrics);
        return {
          account: name,
          status: "succeeded",
          runId: result.runId,
          detail: `${result.rows} spent-credit value(s) written, ${result.apiRequests} API requests`,
        };
      }
      const summary = await withRunMetrics(account.config, "run", accountLog, () => runSync(sync), options.metrics);
      return { account: name, status: "succeeded", runId: summary.runId, detail: describe(summary), summary };
    } catch (error) {
      if (error instanceof LockedError) return { account: name, status: "skipped", code: error.code, detail: error.message };
      const code = error instanceof SyncError ? error.code : ((error as { code?: string }).code ?? "UNEXPECTED");
      const interrupted = signal?.aborted === true;
      // The message was scrubbed of the account's token by the run (run.ts) before it left it.
      const runId = (error as { runId?: string }).runId;
      return { account: name, status: interrupted ? "interrupted" : "failed", runId, code, detail: (error as Error).message };
    }
  };

  /**
   * An account without a usable key of its own (its variable unset or unusable, or its key another
   * account's too) fails alone, and a run/snapshot pass records it as a failed run like any other
   * failure (error code TOKEN_MISSING or TOKEN_SHARED, the message names variables, never a value),
   * so sync_runs holds every account's run and status --all shows it.
   */
  const tokenUnusable = async (account: FleetAccount): Promise<AccountOutcome> => {
    const { code, message } = account.tokenError!;
    const failed: AccountOutcome = { account: account.name, status: "failed", code, detail: message };
    if (options.pass !== "run" && options.pass !== "snapshot") return failed;
    try {
      const runId = await withConnectionRetry(
        async () => {
          const id = await startRun(database.pool, account.name, options.pass, undefined);
          await finishRun(database.pool, id, {
            status: "failed",
            apiRequests: 0,
            retries: 0,
            errorCode: code,
            errorMessage: message,
          });
          return id;
        },
        { signal },
      );
      return { ...failed, runId };
    } catch (error) {
      log.error({ account: account.name, err: (error as Error).message }, "could not record the account's failed run");
      return failed;
    }
  };

  /** verify / sweep: under the account's lock (held elsewhere: skipped), on the fleet's pool and request slots. */
  const audit = async (account: FleetAccount, sync: SyncOptions): Promise<AccountOutcome> => {
    const lock = await withConnectionRetry(() => locks.acquire(account.name), { signal });
    try {
      const { verify, runSweep } = await import("./verify.js");
      const auditOptions = {
        config: account.config,
        databaseUrl: options.databaseUrl,
        log: sync.log,
        signal,
        database,
        locks,
        requestSlot: sync.requestSlot,
        clientOptions: options.clientOptions,
      };
      if (options.pass === "sweep") {
        const s = await runSweep(auditOptions);
        const windows = `${s.windows} window(s) swept, ${s.apiRequests} API requests`;
        return s.differing.length === 0
          ? { account: account.name, status: "succeeded", detail: `${windows}, every window agrees` }
          : {
              account: account.name,
              status: "failed",
              code: "SWEEP_DIFFERS",
              detail: `${windows}, ${s.differing.length} differ (generect-sync verify --repair)`,
            };
      }
      const report = await verify({ ...auditOptions, repair: options.repair });
      return {
        account: account.name,
        status: report.holds ? "succeeded" : "failed",
        code: report.holds ? undefined : "VERIFY_DIFFERS",
        detail: verifyDetail(report),
        report,
      };
    } finally {
      await lock.release();
    }
  };

  const lane = async () => {
    while (next < accounts.length) {
      const index = next++;
      const outcome = await one(accounts[index]!);
      outcomes[index] = outcome;
      const level = outcome.status === "failed" ? "error" : outcome.status === "succeeded" ? "info" : "warn";
      log[level](
        { account: outcome.account, status: outcome.status, runId: outcome.runId, code: outcome.code },
        `account ${outcome.status}: ${outcome.detail}`,
      );
      options.onOutcome?.(outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: budget.accountsInFlight }, lane));
    const used = slots.usage();
    if (used.requests > 0)
      log.info(
        { requestSlots: used },
        `fleet finished: ${used.slots} request slots busy ${Math.round(used.busyShare * 100)}% of the time, ` +
          `a request waited ${Math.round(used.meanWaitMs)} ms for one and held it ${used.meanHoldMs.toFixed(1)} ms`,
      );
  } finally {
    await locks.close();
    if (!options.database) await database.close();
  }
  return outcomes;
}

/** The pool a fleet of `accounts` opens under SYNC_DB_CONNECTIONS (one connection goes to the locks). */
export function fleetPoolSize(options: Pick<FleetOptions, "dbConnections" | "concurrency">, accounts: number): number {
  return fleetBudget(options.dbConnections, options.concurrency, accounts).pool;
}

/** verify --all's line for one account: every proof's verdict, the first finding of those that differ. */
export function verifyDetail(report: VerifyReport): string {
  const differing = report.proofs.filter((p) => !p.holds);
  if (differing.length === 0)
    return `all ${report.proofs.length} proofs hold (${report.proofs.map((p) => p.name).join(", ")}), head ${report.headDigest}`;
  return (
    `${differing.length} of ${report.proofs.length} proofs differ: ` +
    differing.map((p) => `${p.name} (${p.summary}${p.findings[0] ? `; ${p.findings[0]}` : ""})`).join("; ")
  );
}

/** The fleet's exit code: 0 when no account failed (skipped ones are not failures), 1 otherwise. */
export function fleetExitCode(outcomes: AccountOutcome[]): number {
  return outcomes.some((o) => o.status === "failed" || o.status === "interrupted") ? 1 : 0;
}

/** One line per account, as `run --all` prints them. */
export function outcomeLine(o: AccountOutcome): string {
  return `${o.account}: ${o.status}${o.runId ? ` (run #${o.runId})` : ""}${o.code && o.status !== "succeeded" ? ` [${o.code}]` : ""}: ${o.detail}`;
}
