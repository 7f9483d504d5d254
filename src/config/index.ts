import { validateDetailed } from "node-cron";
import { ConfigError } from "../errors.js";
import { asMillis, type Micros, type Millis, parseTimestamp } from "../time.js";
import { redactUrl } from "./database-url.js";
import { parseDuration } from "./duration.js";
import { maxTargetRows } from "./window-limits.js";

/** Everything the job reads from its environment, validated. */
export interface Config {
  /** `GENERECT_API_TOKEN`: the API key, sent as `Authorization: Token <key>`. Required for `run`. */
  apiToken: string | undefined;
  /** `GENERECT_API_URL`. @default "https://api.generect.com" */
  apiUrl: string;
  /** `DATABASE_URL`; absent: an embedded Postgres with a persistent data directory. */
  databaseUrl: string | undefined;
  /** `SYNC_ACCOUNT`: label stored in every row, so several accounts can share a database. @default "default" */
  account: string;
  /** `SYNC_START`: earliest `created_at` to fetch. @default the account's oldest transaction */
  start: Micros | undefined;
  /** `SYNC_LOOKBACK`: how far behind the watermark each run re-reads, to catch late changes. @default 24h */
  lookbackMs: Millis;
  /**
   * `SYNC_WINDOW`: the span of the first checkpointed window (of every one when windowRows is 0),
   * unless the run knows the history's density: a first run without SYNC_START counts its rows
   * while finding the oldest, and sizes its first window by them. @default 7d
   */
  windowMs: Millis;
  /** `SYNC_WINDOW_ROWS`: rows a window aims at; later spans follow the ledger's density. 0: fixed SYNC_WINDOW spans. @default 10000 */
  windowRows: number;
  /** `SYNC_CONCURRENCY`: transaction pages in flight. @default 4 */
  concurrency: number;
  /** `GENERECT_TIMEOUT`: per-request timeout. @default 30s */
  requestTimeoutMs: Millis;
  /** `GENERECT_RETRIES`: retries per request on network errors, 429 and 5xx. @default 6 */
  retries: number;
  /** `GENERECT_MAX_RESPONSE_BYTES`: a larger response body fails the request (API_RESPONSE_TOO_LARGE). @default 16 MiB */
  maxResponseBytes: number;
  /** `GENERECT_SYNC_HOME`: where the embedded Postgres keeps its data. @default ./.generect-sync */
  home: string | undefined;
  /** `SYNC_TIMEZONE`: IANA timezone of the daily spent-credit snapshots (and of the worker's schedules). @default "UTC" */
  timezone: string;
  /**
   * `SYNC_ROLLUP_ZONES`: IANA timezones whose local days each run keeps in ledger_daily_rollups for
   * the account, besides UTC and SYNC_TIMEZONE (registered by the captures): ledger_days(zone) reads
   * them instead of summing every 15-minute bucket. @default none
   */
  rollupZones: string[];
  /** `SNAPSHOT_RESTATE_DAYS`: each capture re-reads this many days before the last captured day. @default 35 */
  restateDays: number;
  /** `SYNC_CRON`: when the worker runs a sync pass, in SYNC_TIMEZONE. @default "*\/15 * * * *" */
  syncCron: string;
  /** `SNAPSHOT_CRON`: when the worker captures spent credits, in SYNC_TIMEZONE. @default "15 0 * * *" */
  snapshotCron: string;
  /** `VERIFY_CRON`: when the worker runs the audit sweep, in SYNC_TIMEZONE. @default "45 1 * * *" */
  verifyCron: string;
  /** `PUSHGATEWAY_URL`: Prometheus Pushgateway to push each run's metrics to. @default none */
  pushgatewayUrl: string | undefined;
  /** `LOG_LEVEL`: the least severe pino level logged. @default "info" */
  logLevel: string;
  /** `WORKER_HTTP_PORT`: the worker serves /healthz, /readyz and /metrics on this port (0: any free port, logged). @default off */
  workerHttpPort: number | undefined;
}

export const defaults = {
  apiUrl: "https://api.generect.com",
  account: "default",
  lookbackMs: asMillis(24 * 3_600_000),
  windowMs: asMillis(7 * 86_400_000),
  windowRows: 10_000,
  concurrency: 4,
  requestTimeoutMs: asMillis(30_000),
  retries: 6,
  // A page of 100 rows is about 40 KB and a 92-day spent_credits answer a few KB: 16 MiB is far
  // above any honest answer and far below what exhausts the heap.
  maxResponseBytes: 16 * 1024 * 1024,
  timezone: "UTC",
  rollupZones: [] as string[],
  restateDays: 35,
  syncCron: "*/15 * * * *",
  snapshotCron: "15 0 * * *",
  verifyCron: "45 1 * * *",
  logLevel: "info",
} satisfies Partial<Config>;

type Env = Record<string, string | undefined>;

/** pino's levels, most severe first (listed here so reading the configuration does not load pino). */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The variables `--help` and the README document, in the order they are listed. */
export const configVariables = [
  ["GENERECT_API_TOKEN", "API key (required for run); never logged"],
  ["GENERECT_API_URL", `API base URL (default ${defaults.apiUrl})`],
  ["DATABASE_URL", "Postgres URL (default: embedded Postgres under GENERECT_SYNC_HOME)"],
  ["SYNC_ACCOUNT", `account label stored with every row (default ${defaults.account})`],
  ["SYNC_START", "earliest created_at to fetch, e.g. 2024-01-01 (default: whole history)"],
  ["SYNC_LOOKBACK", "re-read this far behind the watermark (default 24h)"],
  ["SYNC_WINDOW", "first backfill window, checkpointed one by one, unless sized by the history's rows (default 7d)"],
  ["SYNC_WINDOW_ROWS", `rows a window aims at, later spans follow (default ${defaults.windowRows}, 0: every window SYNC_WINDOW long)`],
  ["SYNC_CONCURRENCY", `pages in flight (default ${defaults.concurrency})`],
  ["GENERECT_TIMEOUT", "per-request timeout (default 30s)"],
  ["GENERECT_RETRIES", `retries per request (default ${defaults.retries})`],
  ["GENERECT_MAX_RESPONSE_BYTES", `largest API response body accepted, in bytes (default ${defaults.maxResponseBytes})`],
  ["GENERECT_SYNC_HOME", "data directory of the embedded Postgres (default ./.generect-sync)"],
  ["SYNC_TIMEZONE", "IANA timezone of the daily snapshots and schedules (default UTC)"],
  ["SYNC_ROLLUP_ZONES", "comma-separated IANA timezones whose local days the rollups keep, for ledger_days(zone) (default: none)"],
  ["SNAPSHOT_RESTATE_DAYS", `days re-read before the last captured day (default ${defaults.restateDays})`],
  ["SYNC_CRON", `worker: sync schedule in SYNC_TIMEZONE (default "${defaults.syncCron}")`],
  ["SNAPSHOT_CRON", `worker: snapshot schedule in SYNC_TIMEZONE (default "${defaults.snapshotCron}")`],
  ["VERIFY_CRON", `worker: audit sweep schedule in SYNC_TIMEZONE (default "${defaults.verifyCron}")`],
  ["SYNC_ACCOUNTS_FILE", "--all: YAML file of the fleet's accounts (name, token_env, overrides)"],
  ["SYNC_DB_CONNECTIONS", "--all: database connections of the whole process (default 12, 2-1000)"],
  ["SYNC_SHARDS", "--all: N shards; the shard is JOB_COMPLETION_INDEX (an Indexed Job)"],
  ["SYNC_HEAP_GROWTH", "--all: % the heap grows past what a full garbage collection kept (default 150, 0: V8's own)"],
  ["PUSHGATEWAY_URL", "push each run's metrics to this Prometheus Pushgateway (default: off)"],
  ["WORKER_HTTP_PORT", "worker: serve /healthz, /readyz and /metrics on this port (default: off)"],
  ["LOG_LEVEL", `${logLevels.join(", ")} (default info)`],
] as const;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function duration(env: Env, name: string, fallback: Millis, { allowZero = false } = {}): Millis {
  const text = read(env, name);
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new ConfigError(`${name}=${JSON.stringify(text)} is not a duration: use forms like 15m, 24h, 7d`);
  if (ms === 0 && !allowZero) throw new ConfigError(`${name}=${JSON.stringify(text)} must be longer than zero`);
  return asMillis(ms);
}

/** A whole-number setting from min to max; the fallback when unset or blank. */
export function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = read(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(text)} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const text = read(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(text)} is not a URL (expected e.g. ${fallback})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL, got ${url.protocol}`);
  }
  if (url.username || url.password) throw new ConfigError(`${name} must not carry credentials; use GENERECT_API_TOKEN`);
  return url.toString().replace(/\/+$/, "");
}

function databaseUrl(env: Env): string | undefined {
  const text = read(env, "DATABASE_URL");
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value may hold a password: never echo it.
    throw new ConfigError("DATABASE_URL is not a URL (expected postgres://user:password@host:5432/database)");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got ${redactUrl(text)}`);
  }
  return text;
}

function token(env: Env): string | undefined {
  const text = read(env, "GENERECT_API_TOKEN");
  if (text === undefined) return undefined;
  // The value is secret: describe the problem, never the value.
  if (/\s/.test(text)) throw new ConfigError("GENERECT_API_TOKEN contains whitespace; set the bare key without the `Token ` prefix");
  if (!/^[\x21-\x7e]+$/.test(text)) throw new ConfigError("GENERECT_API_TOKEN contains characters that cannot go in an HTTP header");
  return text;
}

function start(env: Env): Micros | undefined {
  const text = read(env, "SYNC_START");
  if (text === undefined) return undefined;
  const micros = parseTimestamp(text);
  // A year past the instants the job keeps exactly (2255, see time.ts) is a date, just a future
  // one: the same date 400 years apart (the calendar's cycle) within that range tells.
  const year = Number(/^\d{4}/.exec(text)?.[0]);
  const farFuture =
    micros === undefined && year > new Date().getUTCFullYear() && parseTimestamp(`${1800 + (year % 400)}${text.slice(4)}`) !== undefined;
  if (micros === undefined && !farFuture) {
    throw new ConfigError(`SYNC_START=${JSON.stringify(text)} is not a date: use 2024-01-01 or 2024-01-01T00:00:00 (UTC)`);
  }
  // A start after now would plan no window and report success with nothing synced, every run.
  if (micros === undefined || micros > Date.now() * 1000) {
    throw new ConfigError(
      `SYNC_START=${JSON.stringify(text)} is in the future (now is ${new Date().toISOString().slice(0, 19)} UTC): nothing could be synced`,
    );
  }
  return micros;
}

/**
 * The zone's name as the snapshot rows are keyed: `utc` and `UTC` must not be two series of the
 * same days. Intl folds case and aliases, but to ICU's own ids, which are partly the old ones
 * (Asia/Kolkata becomes Asia/Calcutta): its answer is taken where it differs from the input only in
 * case, and for every alias of UTC (Etc/UTC, GMT, Zulu); another alias is kept as written unless
 * its case was plainly not looked up (all lower or upper case), which would start a second series.
 */
function timezone(env: Env): string {
  return zoneName("SYNC_TIMEZONE", read(env, "SYNC_TIMEZONE") ?? defaults.timezone, "it keys every snapshot row");
}

/** A zone name written as SYNC_TIMEZONE must be (see timezone()); `keys` says what the name keys. */
function zoneName(name: string, text: string, keys: string): string {
  // The default needs no lookup: a time-zone Intl.DateTimeFormat loads ICU's zone data (~20 ms of `status`).
  if (text === "UTC") return text;
  let canonical: string;
  try {
    // Intl knows the IANA database; a fixed offset such as +05:30 is not a timezone name.
    if (/^[+-]/.test(text)) throw new RangeError();
    canonical = new Intl.DateTimeFormat("en-US", { timeZone: text }).resolvedOptions().timeZone;
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(text)} is not an IANA timezone name (e.g. UTC, Europe/Berlin, Asia/Kolkata)`);
  }
  if (canonical.toLowerCase() === text.toLowerCase() || canonical === "UTC") return canonical;
  if (text === text.toLowerCase() || text === text.toUpperCase()) {
    throw new ConfigError(
      `${name}=${JSON.stringify(text)} is the zone ${canonical}: write its name as the IANA database does (e.g. Asia/Kolkata), ${keys}`,
    );
  }
  return text;
}

/**
 * SYNC_ROLLUP_ZONES, each name as SYNC_TIMEZONE takes it: ledger_days(zone) reads a zone's daily
 * rollups only when called with the name registered, so `utc` and `UTC` must not be two zones.
 */
function rollupZones(env: Env): string[] {
  const text = read(env, "SYNC_ROLLUP_ZONES");
  if (text === undefined) return [];
  const names = text.split(",").map((z) => z.trim());
  if (names.some((z) => z === "")) {
    throw new ConfigError(`SYNC_ROLLUP_ZONES=${JSON.stringify(text)} has an empty entry: list IANA names separated by commas`);
  }
  return [...new Set(names.map((z) => zoneName("SYNC_ROLLUP_ZONES", z, "ledger_days() is called with it")))];
}

function logLevel(env: Env): string {
  const text = read(env, "LOG_LEVEL") ?? defaults.logLevel;
  if (!(logLevels as readonly string[]).includes(text)) {
    throw new ConfigError(`LOG_LEVEL=${JSON.stringify(text)} is not a log level: use one of ${logLevels.join(", ")}`);
  }
  return text;
}

function cron(env: Env, name: string, fallback: string): string {
  const text = read(env, name) ?? fallback;
  const result = validateDetailed(text);
  if (!result.valid) {
    const why = result.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new ConfigError(
      `${name}=${JSON.stringify(text)} is not a cron expression (${why || "expected 5 or 6 fields, e.g. */15 * * * *"})`,
    );
  }
  return text;
}

function account(env: Env): string {
  const text = read(env, "SYNC_ACCOUNT") ?? defaults.account;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new ConfigError(`SYNC_ACCOUNT=${JSON.stringify(text)} must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  return text;
}

/** Reads and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  return {
    apiToken: token(env),
    apiUrl: httpUrl(env, "GENERECT_API_URL", defaults.apiUrl),
    databaseUrl: databaseUrl(env),
    account: account(env),
    start: start(env),
    lookbackMs: duration(env, "SYNC_LOOKBACK", defaults.lookbackMs, { allowZero: true }),
    windowMs: duration(env, "SYNC_WINDOW", defaults.windowMs),
    windowRows: wholeNumber(env, "SYNC_WINDOW_ROWS", defaults.windowRows, 0, maxTargetRows),
    concurrency: wholeNumber(env, "SYNC_CONCURRENCY", defaults.concurrency, 1, 64),
    requestTimeoutMs: duration(env, "GENERECT_TIMEOUT", defaults.requestTimeoutMs),
    retries: wholeNumber(env, "GENERECT_RETRIES", defaults.retries, 0, 100),
    maxResponseBytes: wholeNumber(env, "GENERECT_MAX_RESPONSE_BYTES", defaults.maxResponseBytes, 65_536, 1024 * 1024 * 1024),
    home: read(env, "GENERECT_SYNC_HOME"),
    timezone: timezone(env),
    rollupZones: rollupZones(env),
    restateDays: wholeNumber(env, "SNAPSHOT_RESTATE_DAYS", defaults.restateDays, 0, 3660),
    syncCron: cron(env, "SYNC_CRON", defaults.syncCron),
    snapshotCron: cron(env, "SNAPSHOT_CRON", defaults.snapshotCron),
    verifyCron: cron(env, "VERIFY_CRON", defaults.verifyCron),
    pushgatewayUrl: read(env, "PUSHGATEWAY_URL") === undefined ? undefined : httpUrl(env, "PUSHGATEWAY_URL", ""),
    logLevel: logLevel(env),
    workerHttpPort: read(env, "WORKER_HTTP_PORT") === undefined ? undefined : wholeNumber(env, "WORKER_HTTP_PORT", 0, 0, 65_535),
  };
}

/** `run` cannot work without a token; other commands can. */
export function requireToken(config: Config): string {
  if (!config.apiToken) throw new ConfigError("GENERECT_API_TOKEN is not set: the run needs the account's API key");
  return config.apiToken;
}
