import { wholeNumber } from "../config/index.js";
import { ConfigError } from "../errors.js";

/** `SYNC_DB_CONNECTIONS` unless set. */
export const defaultDbConnections = 12;

export interface FleetBudget {
  /** Accounts synced at once. */
  accountsInFlight: number;
  /** The shared pool's size: windows, snapshots and the runs' own bookkeeping. */
  pool: number;
}

/**
 * Splits SYNC_DB_CONNECTIONS: one connection holds every account's lock (and records their runs'
 * ends, see LockSession), the shared pool gets the rest. No account ever waits for a pool
 * connection while holding another one, and the locks never come from the pool, so the budget
 * cannot deadlock however many accounts wait for it.
 *
 * Accounts in flight: 2 x SYNC_CONCURRENCY. An account's run is mostly a chain of round trips (the
 * first page of a window tells how many follow, a snapshot request per period, the commits), so
 * keeping the request slots busy takes more accounts than slots; an account waiting for a pool
 * connection or a request slot costs only its memory, a few pages at most.
 */
export function fleetBudget(connections: number, concurrency: number, accounts: number): FleetBudget {
  if (connections < 2)
    throw new ConfigError(
      `SYNC_DB_CONNECTIONS=${connections} is too small for a fleet: at least 2 (the locks' connection and one for the work)`,
    );
  return { accountsInFlight: Math.max(1, Math.min(accounts, 2 * concurrency)), pool: connections - 1 };
}

export function readDbConnections(env: Record<string, string | undefined>): number {
  return wholeNumber(env, "SYNC_DB_CONNECTIONS", defaultDbConnections, 2, 1000);
}
