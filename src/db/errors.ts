/**
 * Failures that mean "the connection to Postgres was lost", after which the same work can be
 * retried on a new connection: a restarted or failed-over server, a dropped socket.
 * Everything else (constraint violations, bad SQL, bad data) is not retried.
 */
const connectionLossCodes = new Set([
  "57P01", // admin_shutdown: the server was stopped or restarted
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: still starting up
  "08000", "08001", "08003", "08004", "08006", // connection exceptions
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH",
]);

export function isConnectionLoss(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && connectionLossCodes.has(code)) return true;
  return typeof message === "string" && /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}
