import { ConfigError } from "../errors.js";

/** `SYNC_DB_CONNECTIONS` unless set. */
export const defaultDbConnections = 12;

export interface ConnectionBudget {
  /** Accounts synced at once: each holds its lock's connection and, at its end, the run record's. */
  accountsInFlight: number;
  /** The shared pool's size: windows, snapshots and the runs' own bookkeeping. */
  pool: number;
}

/**
 * Splits SYNC_DB_CONNECTIONS between the accounts' locks and the shared pool. A lock is a session
 * connection held for the whole run, outside the pool: if locks came from the pool, N accounts
 * holding N locks could wait forever for a window connection. So each account in flight reserves
 * two connections (its lock, and the fresh one its run's end is recorded on), the pool gets the
 * rest, and the pool is never smaller than the accounts sharing it (one window transaction each).
 */
export function connectionBudget(connections: number, accounts: number): ConnectionBudget {
  if (connections < 3) throw new ConfigError(`SYNC_DB_CONNECTIONS=${connections} is too small for a fleet: at least 3 (a lock, a run record, a window)`);
  const accountsInFlight = Math.max(1, Math.min(accounts, Math.floor(connections / 3)));
  return { accountsInFlight, pool: connections - 2 * accountsInFlight };
}

export function readDbConnections(env: Record<string, string | undefined>): number {
  const text = env.SYNC_DB_CONNECTIONS?.trim();
  if (!text) return defaultDbConnections;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 3 || value > 1000) {
    throw new ConfigError(`SYNC_DB_CONNECTIONS=${JSON.stringify(text)} must be a whole number from 3 to 1000`);
  }
  return value;
}
