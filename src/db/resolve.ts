import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { redactUrl } from "../config/database-url.js";
import type { Config } from "../config/index.js";

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  /** The embedded server's URL file, as a path to show (relative when under the current directory). */
  urlFile?: string;
  /** The PID of the `generect-sync db` keeping this embedded server up, when another process does. */
  keptBy?: number;
  close(): Promise<void>;
}

/**
 * While `generect-sync db` keeps the embedded server up, it holds its PID in this file of
 * GENERECT_SYNC_HOME: other commands then use that server instead of failing on its data directory
 * ("already running"), and leave it running when they end.
 */
const keeperFile = "db.pid";

export function homeDir(config: Pick<Config, "home">): string {
  return path.resolve(config.home ?? ".generect-sync");
}

/**
 * DATABASE_URL when given; otherwise a real embedded Postgres in GENERECT_SYNC_HOME, started (or
 * the one `generect-sync db` keeps up), its URL written to a 0600 file (the URL holds the password,
 * so it is never printed). It does not migrate: see resolveMigratedDatabase.
 */
export async function resolveDatabase(config: Config, say: (line: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, close: async () => {} };
  // Loaded here, not at the top: a command given DATABASE_URL never needs the embedded server,
  // and `status` must start fast.
  const { startEmbeddedPostgres } = await import("./embedded/index.js");
  const home = homeDir(config);
  await mkdir(home, { recursive: true });
  const urlFile = path.join(home, "database-url");
  const shown = path.relative(process.cwd(), urlFile);
  const kept = await keptUp(home, urlFile);
  if (kept) {
    say(`embedded Postgres at ${redactUrl(kept.url)}, kept up by generect-sync db (pid ${kept.pid})`);
    return { url: kept.url, embedded: true, urlFile: shown.startsWith("..") ? urlFile : shown, keptBy: kept.pid, close: async () => {} };
  }
  const server = await startEmbeddedPostgres({ dataDir: path.join(home, "pg") });
  await writeFile(urlFile, `${server.url}\n`, { mode: 0o600 });
  say(`embedded Postgres at ${redactUrl(server.url)} (data in ${path.join(home, "pg")})`);
  return { url: server.url, embedded: true, urlFile: shown.startsWith("..") ? urlFile : shown, close: () => server.stop() };
}

/**
 * resolveDatabase for the commands that work on the schema (all but `migrate` and `demo`, which
 * migrate themselves): an embedded server this call started is migrated too, saying what was applied,
 * as a user without a server of their own expects. A server given by DATABASE_URL is the operator's
 * to migrate (`generect-sync migrate`); one kept up by `generect-sync db` was migrated when it started.
 */
export async function resolveMigratedDatabase(config: Config, say: (line: string) => void): Promise<ResolvedDatabase> {
  const db = await resolveDatabase(config, say);
  if (!db.embedded || db.keptBy !== undefined) return db;
  try {
    const { migrate } = await import("./migrate.js");
    const { applied } = await migrate(db.url);
    if (applied.length) say(`applied ${applied.length} migration(s) to the embedded Postgres`);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** Marks this process as the one keeping the embedded server up (see keeperFile); returns the unmark. */
export async function keepUp(config: Pick<Config, "home">): Promise<() => Promise<void>> {
  const file = path.join(homeDir(config), keeperFile);
  await writeFile(file, `${process.pid}\n`, { mode: 0o600 });
  return () => rm(file, { force: true });
}

async function keptUp(home: string, urlFile: string): Promise<{ url: string; pid: number } | undefined> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(path.join(home, keeperFile), "utf8"), 10);
  } catch {
    return undefined;
  }
  // A keeper killed without cleaning up leaves its file: its PID is gone (or the server is).
  if (!Number.isInteger(pid) || pid === process.pid || !isAlive(pid) || !existsSync(path.join(home, "pg", "postmaster.pid")))
    return undefined;
  try {
    return { url: (await readFile(urlFile, "utf8")).trim(), pid };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
