import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/index.js";
import { startEmbeddedPostgres } from "./embedded.js";
import { migrate } from "./migrate.js";
import { redactUrl } from "./url.js";

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  /** The embedded server's URL file, as a path to show (relative when under the current directory). */
  urlFile?: string;
  close(): Promise<void>;
}

export function homeDir(config: Pick<Config, "home">): string {
  return path.resolve(config.home ?? ".generect-sync");
}

/**
 * DATABASE_URL when given; otherwise a real embedded Postgres in GENERECT_SYNC_HOME, started,
 * migrated, and its URL written to a 0600 file (the URL holds the password, so it is never printed).
 */
export async function resolveDatabase(config: Config, say: (line: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, close: async () => {} };
  const home = homeDir(config);
  await mkdir(home, { recursive: true });
  const server = await startEmbeddedPostgres({ dataDir: path.join(home, "pg") });
  const applied = await migrate(server.url);
  const urlFile = path.join(home, "database-url");
  await writeFile(urlFile, `${server.url}\n`, { mode: 0o600 });
  say(`embedded Postgres at ${redactUrl(server.url)} (data in ${path.join(home, "pg")}${applied.applied.length ? `, applied ${applied.applied.length} migration(s)` : ""})`);
  const shown = path.relative(process.cwd(), urlFile);
  return { url: server.url, embedded: true, urlFile: shown.startsWith("..") ? urlFile : shown, close: () => server.stop() };
}
