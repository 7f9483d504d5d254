import pRetry from "p-retry";
import { DatabaseUnavailableError } from "../errors.js";
import { isConnectionLoss } from "./errors.js";

export interface ConnectionRetryOptions {
  signal?: AbortSignal;
  onRetry?: (error: Error, attempt: number) => void;
  /** @default 8: with backoff from 250 ms doubling to 5 s, 23 to 46 s of waiting in all */
  retries?: number;
  /** First wait; doubles each retry. @default 250 */
  minTimeoutMs?: number;
}

/**
 * Retries `work` while the failure is a lost or refused Postgres connection (a restart, a
 * failover, a server out of connections), for up to about half a minute. The work must be safe to
 * repeat: a window's transaction rolled back with the connection, so walking it again is. When the
 * budget is spent the failure is a DatabaseUnavailableError (DB_UNAVAILABLE) carrying Postgres's
 * own reason.
 */
export async function withConnectionRetry<T>(work: () => Promise<T>, options: ConnectionRetryOptions = {}): Promise<T> {
  let done: { value: T } | undefined;
  try {
    const attempt = async () => {
      const value = await work();
      done = { value };
      return value;
    };
    return await pRetry(attempt, {
      retries: options.retries ?? 8,
      factor: 2,
      minTimeout: options.minTimeoutMs ?? 250,
      maxTimeout: 5_000,
      randomize: true,
      signal: options.signal,
      shouldRetry: ({ error }) => isConnectionLoss(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (isConnectionLoss(error) && retriesLeft > 0) options.onRetry?.(error, attemptNumber);
      },
    });
  } catch (error) {
    // p-retry rejects with the signal's reason when it aborted while the attempt ran, even if the
    // attempt succeeded. What it did stays done (a lock taken, a run row opened, a window
    // committed): dropped, the lock would be held until the process ends and the window missing
    // from the run's counters. The caller gets the result and meets the abort at its next step.
    if (done) return done.value;
    if (options.signal?.aborted || !isConnectionLoss(error)) throw error;
    const { code, message } = error as { code?: string; message?: string };
    throw new DatabaseUnavailableError(
      `the database stayed unavailable after ${(options.retries ?? 8) + 1} attempts (${code ? `${code}: ` : ""}${message ?? String(error)})`,
      { cause: error },
    );
  }
}
