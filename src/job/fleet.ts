import pLimit from "p-limit";
import type { FleetAccount } from "../config/accounts.js";
import { Database } from "../db/database.js";
import { LockedError, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { LiveMetrics } from "../metrics/live.js";
import { withRunMetrics } from "./run-metrics.js";
import { type SyncOptions, type SyncSummary, runSnapshot, runSync } from "./run.js";
import { LockSession } from "./lock.js";
import { fleetBudget } from "./fleet-budget.js";

export type FleetPass = "run" | "snapshot";

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
  // p-limit serves its queue in order: an account walking a large backfill queues at most its own
  // SYNC_CONCURRENCY pages at a time, so the accounts beside it get a slot every round.
  const requestSlot = pLimit(options.concurrency);
  const database = options.database ?? new Database(options.databaseUrl, { max: budget.pool });
  const locks = new LockSession(options.databaseUrl);
  log.info({ accounts: accounts.length, accountsInFlight: budget.accountsInFlight, pool: budget.pool, concurrency: options.concurrency }, "fleet started");
  const outcomes: AccountOutcome[] = new Array(accounts.length);
  let next = 0;

  const one = async (account: FleetAccount): Promise<AccountOutcome> => {
    const name = account.name;
    if (account.tokenError) return { account: name, status: "failed", code: "CONFIG", detail: account.tokenError };
    if (signal?.aborted) return { account: name, status: "interrupted", detail: "not started: the fleet was stopped" };
    const accountLog = log.child({ account: name });
    const sync: SyncOptions = {
      config: account.config, databaseUrl: options.databaseUrl, log: accountLog, signal, database, locks, requestSlot,
      command: options.pass, clientOptions: options.clientOptions,
    };
    try {
      if (options.pass === "snapshot") {
        const result = await withRunMetrics(account.config, "snapshot", accountLog, () => runSnapshot(sync), options.metrics);
        return { account: name, status: "succeeded", runId: result.runId, detail: `${result.rows} spent-credit value(s) written, ${result.apiRequests} API requests` };
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

  const lane = async () => {
    while (next < accounts.length) {
      const index = next++;
      const outcome = await one(accounts[index]!);
      outcomes[index] = outcome;
      const level = outcome.status === "failed" ? "error" : outcome.status === "succeeded" ? "info" : "warn";
      log[level]({ account: outcome.account, status: outcome.status, runId: outcome.runId, code: outcome.code }, `account ${outcome.status}: ${outcome.detail}`);
      options.onOutcome?.(outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: budget.accountsInFlight }, lane));
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

/** The fleet's exit code: 0 when no account failed (skipped ones are not failures), 1 otherwise. */
export function fleetExitCode(outcomes: AccountOutcome[]): number {
  return outcomes.some((o) => o.status === "failed" || o.status === "interrupted") ? 1 : 0;
}

/** One line per account, as `run --all` prints them. */
export function outcomeLine(o: AccountOutcome): string {
  return `${o.account}: ${o.status}${o.runId ? ` (run #${o.runId})` : ""}${o.code && o.status !== "succeeded" ? ` [${o.code}]` : ""}: ${o.detail}`;
}
