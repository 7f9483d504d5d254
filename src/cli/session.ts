import { type Config, loadConfig, requireToken } from "../config/index.js";
import { resolveDatabase } from "../db/resolve.js";
import { withConnectionRetry } from "../db/retry.js";
import { assertMigrated } from "../db/schema-check.js";
import { passwordOf } from "../db/url.js";
import { type Logger, createLogger } from "../log.js";
import type { CommandIo } from "./command.js";
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
  const db = await resolveDatabase(config, io.note);
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
