import type pg from "pg";
import { SyncError } from "../errors.js";
import { openSession, withSession } from "./database.js";
import { readMigrations } from "./migrate.js";
import { appliedMigrationsSql } from "./sql/schema.js";

/** The migrations this version ships (prisma/migrations), by folder name. */
export async function expectedMigrations(): Promise<string[]> {
  return (await readMigrations()).migrationDirectories.map((m) => m.path);
}

/** Which of `expected` the database has not applied (all of them when _prisma_migrations is missing). */
async function missingMigrations(client: pg.Client, expected: string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(appliedMigrationsSql).catch(() => ({ rows: [] as { name: string }[] })); // no _prisma_migrations: a database never migrated
  const applied = new Set(rows.map((r) => r.name));
  return expected.filter((name) => !applied.has(name));
}

/** Fails with a plain hint when the database lacks migrations this version needs. */
export async function assertMigrated(databaseUrl: string): Promise<void> {
  const expected = await expectedMigrations();
  const missing = await withSession(databaseUrl, (client) => missingMigrations(client, expected));
  if (missing.length) {
    throw new SyncError(
      "SCHEMA_NOT_MIGRATED",
      `the database lacks ${missing.length} migration(s) (${missing.join(", ")}): run \`generect-sync migrate\` first`,
    );
  }
}

export type Readiness = { ready: true } | { ready: false; reason: string };

/**
 * For a readiness probe: connects, compares _prisma_migrations with `expected`, and answers within
 * `timeoutMs` whatever the database does (a black-holed connection included). The reason is
 * written for the operator and holds no part of the URL.
 */
export async function checkReadiness(databaseUrl: string, expected: string[], timeoutMs: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, reason: `the database did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  // Opened after the deadline is armed, so a black-holed connection reports the deadline, not the
  // connection timeout of the same length. A session notes the 'error' pg emits on an idle client
  // whose connection dies (unhandled, it would kill the worker).
  const opening = openSession(databaseUrl, {
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "generect-sync readyz",
  });
  const check = (async (): Promise<Readiness> => {
    let client: pg.Client;
    try {
      client = (await opening).client;
    } catch (error) {
      return { ready: false, reason: `the database is unreachable (${(error as { code?: string }).code ?? "connection failed"})` };
    }
    const missing = await missingMigrations(client, expected);
    return missing.length
      ? { ready: false, reason: `the database lacks ${missing.length} migration(s) (${missing.join(", ")}): run \`generect-sync migrate\`` }
      : { ready: true };
  })();
  try {
    return await Promise.race([check, deadline]);
  } finally {
    clearTimeout(timer);
    // Never awaited: end() on a connection that never answers would hold the probe's answer.
    void opening.then(
      (session) => session.end(),
      () => {},
    );
  }
}
