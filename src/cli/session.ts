import { type FleetAccount, inShard, loadAccounts, readShard } from "../config/accounts.js";
import { passwordOf } from "../config/database-url.js";
import { type Config, loadConfig, requireToken } from "../config/index.js";
import { resolveMigratedDatabase } from "../db/resolve.js";
import { withConnectionRetry } from "../db/retry.js";
import { assertMigrated } from "../db/schema-check.js";
import { ConfigError } from "../errors.js";
import { readDbConnections } from "../job/fleet-budget.js";
import { createLogger, type Logger } from "../log.js";
import type { CommandIo } from "./command.js";
import { growFleetHeap, readHeapGrowingPercent } from "./fleet-heap.js";
import { onShutdownSignal } from "./signals.js";

export interface SyncSession {
  config: Config;
  databaseUrl: string;
  log: Logger;
  /** Aborted by the first SIGTERM/SIGINT. */
  signal: AbortSignal;
}

/**
 * What every command that talks to the API needs, in order: validated configuration and a token
 * (before anything is touched), a migrated database, a logger that scrubs both secrets, and
 * signal handling; all released afterwards.
 */
export async function withSyncSession<T>(io: CommandIo, work: (session: SyncSession) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const token = requireToken(config);
  const db = await resolveMigratedDatabase(config, io.note);
  const log = createLogger({ secrets: [token, passwordOf(db.url)], level: config.logLevel });
  const signals = onShutdownSignal();
  try {
    // A server refusing connections for a moment (restarting, out of connections) is waited for here too.
    if (!db.embedded) await withConnectionRetry(() => assertMigrated(db.url), { signal: signals.signal });
    return await work({ config, databaseUrl: db.url, log, signal: signals.signal });
  } finally {
    signals.dispose();
    await db.close();
  }
}

export interface FleetSession extends Omit<SyncSession, "config"> {
  /** The environment's configuration (the database, the budget, the schedules). */
  config: Config;
  /** The accounts of SYNC_ACCOUNTS_FILE this process syncs (its shard's). */
  accounts: FleetAccount[];
  /** SYNC_DB_CONNECTIONS. */
  dbConnections: number;
}

/**
 * withSyncSession for `--all`: the accounts come from SYNC_ACCOUNTS_FILE (a bad file is exit 2
 * before anything is touched), the shard from --shard or JOB_COMPLETION_INDEX, and the logger
 * scrubs every account's token.
 */
export async function withFleetSession<T>(
  io: CommandIo,
  shardOption: string | undefined,
  work: (session: FleetSession) => Promise<T>,
): Promise<T> {
  const file = io.env.SYNC_ACCOUNTS_FILE?.trim();
  if (!file) throw new ConfigError("--all needs SYNC_ACCOUNTS_FILE: a YAML file listing the accounts (name, token_env), see the README");
  const config = loadConfig({ ...io.env, GENERECT_API_TOKEN: undefined });
  const shard = readShard(shardOption, io.env);
  const dbConnections = readDbConnections(io.env);
  const heapGrowingPercent = readHeapGrowingPercent(io.env);
  const accounts = loadAccounts(file, io.env).filter((account) => inShard(account.name, shard));
  if (shard) io.note(`shard ${shard.index}/${shard.count}: ${accounts.length} account(s)`);
  const db = await resolveMigratedDatabase(config, io.note);
  const secrets = accounts.map((a) => a.config.apiToken).filter((t): t is string => t !== undefined);
  const log = createLogger({ secrets: [...secrets, passwordOf(db.url)], level: config.logLevel });
  // Many accounts' pages in flight: fewer full collections for a larger heap (see fleet-heap.ts).
  if (growFleetHeap(heapGrowingPercent)) log.debug({ heapGrowingPercent }, "fleet heap growth set");
  const signals = onShutdownSignal();
  try {
    if (!db.embedded) await withConnectionRetry(() => assertMigrated(db.url), { signal: signals.signal });
    return await work({ config, accounts, dbConnections, databaseUrl: db.url, log, signal: signals.signal });
  } finally {
    signals.dispose();
    await db.close();
  }
}
