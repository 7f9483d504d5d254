import { SyncError } from "../errors.js";

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
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH",
]);

export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof SyncError) return false; // already judged, e.g. DB_UNAVAILABLE after its retries
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  // Class 08, connection_exception, whatever its subclass.
  if (typeof code === "string" && (connectionLossCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return typeof message === "string" && /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}
