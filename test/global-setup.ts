// Jest globalSetup: picks the PostgreSQL server for the whole run, once.
//   1. TEST_DATABASE_URL                     (kind "env": an admin URL; tests create their own databases)
//   2. testcontainers, postgres:18-alpine    (kind "testcontainers": if a container runtime answers within ~2 s)
//   3. embedded PostgreSQL in a temp dir     (kind "embedded")
// GENERECT_TEST_SERVER=embedded skips the container probe. The choice is published to the workers as
// GENERECT_TEST_ADMIN_URL / GENERECT_TEST_DB_KIND (workers inherit this process's environment).
//
// Jest loads this file (unlike the tests) through its CommonJS require hook, where the ".js"
// specifiers of our ESM sources do not resolve to the ".ts" files. Hence project modules are imported
// dynamically, after allowTsBehindJsSpecifiers(); static imports are limited to node: builtins.

import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export type TestServerKind = "env" | "testcontainers" | "embedded";

export interface TestServer {
  kind: TestServerKind;
  adminUrl: string;
  /** Stops the container / embedded server and removes its temp directory (a no-op for TEST_DATABASE_URL). */
  stop(): Promise<void>;
}

declare global {
  // Shared with test/global-teardown.ts (same process).
  var __GENERECT_TEST_SERVER__: TestServer | undefined;
}

const RUNTIME_PROBE_MS = 2_000;

export default async function globalSetup(): Promise<void> {
  const began = Date.now();
  allowTsBehindJsSpecifiers();
  const { redactUrl } = await import("../src/config/database-url.js");
  const { query } = await import("./helpers/database.js");

  const server = await chooseServer();
  globalThis.__GENERECT_TEST_SERVER__ = server;
  process.env.GENERECT_TEST_ADMIN_URL = server.adminUrl;
  process.env.GENERECT_TEST_DB_KIND = server.kind;
  try {
    await query(server.adminUrl, "SELECT 1"); // fail once, clearly, instead of in every test
  } catch (error) {
    globalThis.__GENERECT_TEST_SERVER__ = undefined;
    await server.stop().catch(() => {});
    throw error;
  }
  process.stdout.write(`\n[test db] ${server.kind} PostgreSQL at ${redactUrl(server.adminUrl)} (ready in ${Date.now() - began} ms)\n`);
}

async function chooseServer(): Promise<TestServer> {
  const fromEnv = process.env.TEST_DATABASE_URL?.trim();
  if (fromEnv) return { kind: "env", adminUrl: fromEnv, stop: async () => {} };
  if (process.env.GENERECT_TEST_SERVER !== "embedded" && (await containerRuntimeAnswers())) {
    return startContainer();
  }
  return startEmbedded();
}

async function startContainer(): Promise<TestServer> {
  const { withDatabase } = await import("../src/config/database-url.js");
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer("postgres:18-alpine").start();
  return {
    kind: "testcontainers",
    adminUrl: withDatabase(container.getConnectionUri(), "postgres"),
    stop: async () => {
      await container.stop();
    },
  };
}

async function startEmbedded(): Promise<TestServer> {
  const { startEmbeddedPostgres } = await import("../src/db/embedded/index.js");
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-sync-test-pg-"));
  const removeTempDir = () => fs.rm(tempDir, { recursive: true, force: true });
  try {
    // As root the server runs as the OS user "postgres", which must be able to enter the temp dir
    // (mkdtemp makes it 0700).
    if (process.getuid?.() === 0) await fs.chmod(tempDir, 0o755);
    const handle = await startEmbeddedPostgres({ dataDir: path.join(tempDir, "pg") });
    return {
      kind: "embedded",
      adminUrl: handle.url,
      stop: async () => {
        try {
          await handle.stop();
        } finally {
          await removeTempDir();
        }
      },
    };
  } catch (error) {
    await removeTempDir();
    throw error;
  }
}

/**
 * True when a container runtime answers within RUNTIME_PROBE_MS. testcontainers is only loaded when
 * there is some sign of a runtime (DOCKER_HOST, a testcontainers config or a known socket file), so
 * on machines without one this costs nothing and prints nothing.
 */
async function containerRuntimeAnswers(): Promise<boolean> {
  if (!containerRuntimeHinted()) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    const probe = getContainerRuntimeClient().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), RUNTIME_PROBE_MS);
    });
    return await Promise.race([probe, timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function containerRuntimeHinted(): boolean {
  if (process.env.DOCKER_HOST || process.env.TESTCONTAINERS_HOST_OVERRIDE) return true;
  if (process.platform === "win32") return true; // named pipe: let testcontainers probe
  const home = os.homedir();
  const candidates = [
    path.join(home, ".testcontainers.properties"),
    "/var/run/docker.sock",
    path.join(home, ".docker", "run", "docker.sock"),
    path.join(home, ".docker", "desktop", "docker.sock"),
    ...(process.env.XDG_RUNTIME_DIR ? [path.join(process.env.XDG_RUNTIME_DIR, "docker.sock")] : []),
    ...(typeof process.getuid === "function" ? [`/run/user/${process.getuid()}/docker.sock`] : []),
  ];
  return candidates.some((candidate) => existsSync(candidate));
}

/**
 * Under Jest's CommonJS hook, lets `require("./x.js")` find `./x.ts` (what moduleNameMapper does for
 * the tests). Only relative specifiers that do not resolve as written are retried; a no-op when this
 * file runs as real ESM.
 */
function allowTsBehindJsSpecifiers(): void {
  if (typeof require === "undefined") return;
  const Module = require("node:module") as {
    _resolveFilename: ((request: string, ...rest: unknown[]) => string) & { generectTs?: boolean };
  };
  const original = Module._resolveFilename;
  if (original.generectTs) return;
  const patched = function (this: unknown, request: string, ...rest: unknown[]): string {
    try {
      return original.call(this, request, ...rest);
    } catch (error) {
      if (request.startsWith(".") && request.endsWith(".js")) {
        return original.call(this, `${request.slice(0, -3)}.ts`, ...rest);
      }
      throw error;
    }
  } as typeof original;
  patched.generectTs = true;
  Module._resolveFilename = patched;
}
