/**
 * Every code a SyncError carries: stable, recorded in sync_runs.error_code and
 * balance_checkpoints.error_code, and matched by operators' alerts, so a code is added here, never
 * renamed. (Those columns also hold two codes no SyncError carries: `UNEXPECTED`, a failure that was
 * not a SyncError, and `ABANDONED`, a run whose process died.)
 */
export type ErrorCode =
  // the API (src/api/client.ts, the classes below)
  | "API_AUTH"
  | "API_FORBIDDEN"
  | "API_BAD_REQUEST"
  | "API_NOT_FOUND"
  | "API_THROTTLED"
  | "API_UNAVAILABLE"
  | "API_HTTP_ERROR"
  | "API_TIMEOUT"
  | "API_TLS"
  | "API_UNREACHABLE"
  | "API_RESPONSE_TOO_LARGE"
  | "API_RESPONSE_INVALID"
  | "API_TEST_MODE"
  // guards on what the API answered (src/sync)
  | "API_FILTER_IGNORED"
  | "WINDOW_UNSETTLED"
  | "OLDEST_UNSETTLED"
  | "REPAIR_UNSETTLED"
  // the database and its lock
  | "DB_UNAVAILABLE"
  | "DB_UNREACHABLE"
  | "DB_MISSING"
  | "DB_AUTH_FAILED"
  | "SCHEMA_NOT_MIGRATED"
  | "LOCKED"
  | "LOCK_LOST"
  // configuration, commands and the process
  | "CONFIG_INVALID"
  | "ROLE_REFUSED"
  | "INTERRUPTED"
  | "CHROMIUM_MISSING"
  | "PUSHGATEWAY_FAILED"
  | "WORKER_HTTP_LISTEN";

/**
 * Every failure the job reports is a SyncError: a stable `code` (recorded in sync_runs.error_code
 * and in logs), a message written for the operator, and the process exit code it maps to.
 */
export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
  }
}

/** Process exit codes; the README documents the same table. */
export const ExitCode = {
  Success: 0,
  /** The run failed: API, database, guard or bad data. The message says which. */
  Failure: 1,
  /** Bad configuration or command-line usage (a test-mode API key included); nothing was written. */
  Usage: 2,
  /** Another run holds the lock for this account; nothing was touched (EX_TEMPFAIL). */
  Locked: 75,
  /** Stopped by SIGINT / SIGTERM; the run is marked `interrupted`. */
  Interrupted: 130,
  Terminated: 143,
} as const;

export class ConfigError extends SyncError {
  constructor(message: string) {
    super("CONFIG_INVALID", message, { exitCode: ExitCode.Usage });
  }
}

/** grant-reader was asked to reshape a role it did not make (a superuser, itself, someone's login). */
export class RoleRefusedError extends SyncError {
  constructor(message: string) {
    super("ROLE_REFUSED", message, { exitCode: ExitCode.Usage });
  }
}

export class LockedError extends SyncError {
  constructor(message: string) {
    super("LOCKED", message, { exitCode: ExitCode.Locked });
  }
}

export class InterruptedError extends SyncError {
  constructor(signal: string) {
    super("INTERRUPTED", `stopped by ${signal}`, {
      exitCode: signal === "SIGTERM" ? ExitCode.Terminated : ExitCode.Interrupted,
    });
  }
}

/** The API answered something the contract does not allow (a malformed row, a broken envelope). */
export class ApiResponseError extends SyncError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("API_RESPONSE_INVALID", message, options);
  }
}

/** The API refused or failed the request after retries; `status` is the HTTP status, if any. */
export class ApiRequestError extends SyncError {
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, status?: number, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.status = status;
  }
}

/** The data broke an invariant the sync relies on (rows outside the window, counts that never settle). */
export class GuardError extends SyncError {}

/** Postgres stayed unreachable (refusing, restarting, out of connections) beyond the reconnect budget. */
export class DatabaseUnavailableError extends SyncError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("DB_UNAVAILABLE", message, options);
  }
}

/**
 * The API answered in test mode (`X-Generect-Mode: test`, a `test_` key): its data is not the
 * account's ledger, so nothing may be written. A configuration problem, hence exit code 2.
 */
export class ApiTestModeError extends SyncError {
  constructor(message: string) {
    super("API_TEST_MODE", message, { exitCode: ExitCode.Usage });
  }
}

/** The InterruptedError a stop signal carries, or undefined while the run may go on. */
export function interruption(signal: AbortSignal | undefined): InterruptedError | undefined {
  if (!signal?.aborted) return undefined;
  return signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError(String(signal.reason ?? "abort"));
}
