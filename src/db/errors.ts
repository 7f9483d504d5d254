import { redactUrl } from "../config/database-url.js";
import { ExitCode, SyncError } from "../errors.js";

/**
 * Failures that mean "no usable connection to Postgres right now", after which the same work can
 * be retried on a new connection: a restarted or failed-over server, a dropped socket, a server
 * refusing new connections for a while. Everything else (constraint violations, bad SQL, bad data)
 * is not retried.
 */
const connectionLossCodes = new Set([
  "57P01", // admin_shutdown: the server was stopped or restarted
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: still starting up, or shutting down
  "53300", // too_many_connections: max_connections, or the role's or database's CONNECTION LIMIT
  // object_not_in_prerequisite_state: what a connection attempt meets while the database does not
  // accept connections (ALLOW_CONNECTIONS false during maintenance). From a statement it would be
  // a bug, which a retry does not hide: it fails again, once the budget is spent.
  "55000",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof SyncError) return false; // already judged, e.g. DB_UNAVAILABLE after its retries
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  // Class 08, connection_exception, whatever its subclass.
  if (typeof code === "string" && (connectionLossCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return (
    typeof message === "string" && /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message)
  );
}

const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNRESET",
  "57P03",
  "08001",
  "08006",
]);

/** "DATABASE_URL=postgres://user:***@host:5432/db (host host, port 5432)", or the embedded server. */
export function describeDatabase(databaseUrl: string | undefined): string {
  if (!databaseUrl) return "the embedded Postgres (no DATABASE_URL set; data under GENERECT_SYNC_HOME)";
  try {
    const url = new URL(databaseUrl);
    return `DATABASE_URL=${redactUrl(databaseUrl)} (host ${url.hostname || "localhost"}, port ${url.port || "5432"})`;
  } catch {
    return `DATABASE_URL=${redactUrl(databaseUrl)}`;
  }
}

/**
 * Turns a driver error that means "wrong database" into a SyncError an operator can act on: it
 * names DATABASE_URL (password redacted), its host and port, and what to do. Undefined for every
 * other error (constraint violations, bad SQL), which keep their own text.
 */
export function explainDatabaseError(error: unknown, databaseUrl: string | undefined): SyncError | undefined {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (typeof code !== "string") return undefined;
  const where = describeDatabase(databaseUrl);
  // A refused connection to a host with several addresses is an AggregateError with an empty message.
  const why = message || code;
  if (unreachableCodes.has(code)) {
    return new SyncError("DB_UNREACHABLE", `cannot connect to ${where}: ${why}. Is the server running, and are the host and port right?`, {
      cause: error,
    });
  }
  if (code === "3D000") {
    const name = /database "(.*)" does not exist/.exec(message ?? "")?.[1] ?? "";
    return new SyncError(
      "DB_MISSING",
      `the database "${name}" does not exist on ${where}: create it (createdb, or CREATE DATABASE), then run \`generect-sync migrate\``,
      {
        cause: error,
        exitCode: ExitCode.Usage,
      },
    );
  }
  if (code === "28P01" || code === "28000") {
    return new SyncError("DB_AUTH_FAILED", `the database refused the login of ${where}: ${why}`, {
      cause: error,
      exitCode: ExitCode.Usage,
    });
  }
  if (code === "42P01") {
    return new SyncError("SCHEMA_NOT_MIGRATED", `${where} has no generect-sync tables (${why}): run \`generect-sync migrate\` first`, {
      cause: error,
    });
  }
  return undefined;
}

/**
 * Opens and closes one connection, so a command whose first contact is not node-postgres (the
 * schema engine) fails with a driver error explainDatabaseError can name.
 */
export async function probeDatabase(databaseUrl: string): Promise<void> {
  const { withSession } = await import("./database.js");
  await withSession(databaseUrl, async () => {});
}
