import pRetry from "p-retry";
import { isConnectionLoss } from "./errors.js";

/**
 * Retries `work` while the failure is a lost Postgres connection (a restart, a failover), for up
 * to about half a minute. The work must be safe to repeat: a window's transaction rolled back with
 * the connection, so walking it again is.
 */
export function withConnectionRetry<T>(
  work: () => Promise<T>,
  options: { signal?: AbortSignal; onRetry?: (error: Error, attempt: number) => void; retries?: number } = {},
): Promise<T> {
  return pRetry(work, {
    retries: options.retries ?? 8,
    factor: 2,
    minTimeout: 250,
    maxTimeout: 5_000,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => isConnectionLoss(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (isConnectionLoss(error) && retriesLeft > 0) options.onRetry?.(error, attemptNumber);
    },
  });
}
