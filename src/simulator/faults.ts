// Seeded fault decisions for the simulator. Every rate-based choice is a pure function of
// (seed, fault kind, request key, how many times that request key was seen before), where the request
// key is the path plus `limit`, `offset` and whether a created_at filter was given. So a run
// against a simulator with the same seed and data sees the same faults on the same requests,
// whatever order concurrent requests arrive in, and a retry of a request (a new occurrence) draws
// afresh, which is what lets retries get past a fault. (Window bounds are left out of the key on
// purpose: they follow the wall clock.) The "next N" counters and 429 bursts are consumed in
// arrival order instead.

import { JsonNumber } from "./json.js";
import { mulberry32 } from "./prng.js";

/** Kinds of injected fault, as counted in `stats.injected`. */
export const FAULT_KINDS = [
  "latency",
  "hang",
  "throttle",
  "fail",
  "invalidJson",
  "truncate",
  "reset",
  "badRow",
  "ignoreFilters",
  "countDrift",
  "countOffset",
  "clampLimit",
  "unstableOrder",
  "dropFilters",
  "churnInsert",
  "churnUpdate",
  "churnDelete",
  "arrival",
  "stale",
  "endlessBody",
  "oversizeBody",
  "deprecation",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type ChurnKind = "insert" | "update" | "delete";
export const CHURN_KINDS: readonly ChurnKind[] = ["insert", "update", "delete"];

/**
 * Ways a row is served unlike the documented schema: one-offs with `badRowRate` / `badRowNext`
 * (a proxy mangling one answer), or for good with `ledger.setOdd` (the API's own data is odd).
 * The first kinds still describe a transaction; REJECTED_ROW_KINDS do not.
 */
export const BAD_ROW_KINDS = [
  "missing-description",
  "null-description",
  "missing-updated-at",
  "unknown-status",
  "unknown-balance-type",
  "null-after-balance",
  "nul-in-description",
  "lone-surrogate-in-description",
  "reformatted-amount",
  "amount-as-string",
  "missing-id",
  "bad-uuid",
  "missing-created-at",
  "bad-datetime",
] as const;
export type BadRowKind = (typeof BAD_ROW_KINDS)[number];

/** Kinds that leave no transaction: no readable id, no created_at, or an amount that is not a number. */
export const REJECTED_ROW_KINDS: readonly BadRowKind[] = [
  "amount-as-string",
  "missing-id",
  "bad-uuid",
  "missing-created-at",
  "bad-datetime",
];

/**
 * The rate-based and counted faults (the numeric part of `SimulatorFaults`). Rates are
 * probabilities in [0, 1] per authenticated API request (per transactions request for the ones
 * that concern rows); `...Next` fields answer the next N such requests with the fault and count down.
 */
export interface FaultSettings {
  /** Seed of every rate-based decision. @default 1 */
  seed?: number;
  /** Every answer leaves this many ms after its request arrived, the simulator's own work included. */
  latencyMs?: number;
  /** Extra latency drawn uniformly from [0, jitterMs) per request. */
  jitterMs?: number;
  /** Probability that a request starts a burst of 429s (this request included; not drawn while a burst lasts). */
  throttleRate?: number;
  /** Length of a burst started by throttleRate. @default 1 */
  throttleBurst?: number;
  /** Probability of a 5xx answer (a status drawn from failStatuses). */
  failRate?: number;
  /** Answer the next N requests with a 5xx. */
  failNext?: number;
  /** Statuses failRate/failNext choose from. @default [500, 502, 503] */
  failStatuses?: number[];
  /** Probability that a request hangs: nothing is answered for hangMs (the client should time out). */
  hangRate?: number;
  hangNext?: number;
  /** How long a hung request waits before it is answered normally, if the client is still there. @default 120_000 */
  hangMs?: number;
  /** Probability of a connection reset mid-body: headers and part of the body are sent, then the socket is destroyed. */
  resetRate?: number;
  resetNext?: number;
  /** Probability of a complete 200 answer whose JSON body is cut short (Content-Length matches the cut body). */
  truncateRate?: number;
  truncateNext?: number;
  /** Probability of a 200 answer that is not JSON at all (an HTML page from a proxy). */
  invalidJsonRate?: number;
  invalidJsonNext?: number;
  /** Probability that one row of a transactions page violates the schema (a kind from BAD_ROW_KINDS). */
  badRowRate?: number;
  badRowNext?: number;
  /** Restrict badRowRate/badRowNext to these kinds. @default all of BAD_ROW_KINDS */
  badRowKinds?: BadRowKind[];
  /** Probability that a transactions page is served as if no filter was given. */
  ignoreFiltersRate?: number;
  /** Probability that a transactions page's `count` is off by 1 to 3 (the rows are not). */
  countDriftRate?: number;
  /**
   * Added to `count` on every transactions page (never below 0): a count that is wrong the same way
   * on every request, so the counts before, during and after a walk all agree with each other.
   */
  countOffset?: number;
  /**
   * Serve at most this many rows per transactions page while the envelope still answers the
   * `limit` asked for (up to max_limit) and `max_limit`: a server that clamps the page size
   * without saying so. 0 or unset: off.
   */
  clampLimit?: number;
  /** Rows sharing one created_at come in a fresh order on every transactions request (no stable tie-break). */
  unstableOrder?: boolean;
  /** Query parameters the server cannot read, e.g. `amount__lt`: dropped silently, the answer computed without them. */
  dropFilters?: string[];
  /**
   * Probability, per filtered transactions request, that a row inside the requested created_at
   * window is inserted, updated or deleted just before the page is computed (rows moving while a
   * window is walked).
   */
  churnRate?: number;
  /** What churnRate may do. @default ["insert", "update", "delete"] */
  churnKinds?: ChurnKind[];
  /** Probability, per transactions request, that a new row is created "now" (by the simulator's clock). */
  arrivalRate?: number;
  /**
   * Probability that a transactions page comes from a replica behind on edits: each row is served
   * as it was before its last update, older `updated_at` included. A row whose last update moved
   * it to another created_at is served as it is now (the page's rows and count stay the ledger's).
   */
  staleRate?: number;
  /** Serve the next N transactions pages that way. */
  staleNext?: number;
  /** Answer the next N requests with a 200 whose body never ends (valid JSON whitespace, streamed as fast as it is read). */
  endlessBodyNext?: number;
  /** Answer the next N requests with a 200 of `oversizeBodyBytes` bytes, Content-Length included. */
  oversizeBodyNext?: number;
  /** Size of an oversize body. @default 64 MiB */
  oversizeBodyBytes?: number;
}

/** Keys of FaultSettings holding a probability. */
export const RATE_FIELDS = [
  "throttleRate",
  "failRate",
  "hangRate",
  "resetRate",
  "truncateRate",
  "invalidJsonRate",
  "badRowRate",
  "ignoreFiltersRate",
  "countDriftRate",
  "churnRate",
  "arrivalRate",
  "staleRate",
] as const satisfies readonly (keyof FaultSettings)[];

/** Keys of FaultSettings holding a whole count or a duration (>= 0). */
export const COUNT_FIELDS = [
  "latencyMs",
  "jitterMs",
  "throttleBurst",
  "failNext",
  "hangNext",
  "hangMs",
  "resetNext",
  "truncateNext",
  "invalidJsonNext",
  "badRowNext",
  "staleNext",
  "endlessBodyNext",
  "oversizeBodyNext",
  "oversizeBodyBytes",
  "clampLimit",
] as const satisfies readonly (keyof FaultSettings)[];

/** Throws a plain Error naming the field when a setting is out of range. */
export function validateFaultSettings(
  settings: FaultSettings & { throttleNext?: number; retryAfterSeconds?: number; clockOffsetMs?: number },
): void {
  for (const field of RATE_FIELDS) {
    const value = settings[field];
    if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= 1)) {
      throw new RangeError(`faults.${field} must be a probability from 0 to 1, got ${String(value)}`);
    }
  }
  for (const field of [...COUNT_FIELDS, "throttleNext"] as const) {
    const value = settings[field];
    if (value !== undefined && !(typeof value === "number" && value >= 0 && (Number.isInteger(value) || value === Infinity))) {
      throw new RangeError(`faults.${field} must be a whole number >= 0, got ${String(value)}`);
    }
  }
  if (settings.retryAfterSeconds !== undefined && !(settings.retryAfterSeconds >= 0)) {
    throw new RangeError(`faults.retryAfterSeconds must be >= 0, got ${String(settings.retryAfterSeconds)}`);
  }
  if (settings.clockOffsetMs !== undefined && !Number.isFinite(settings.clockOffsetMs)) {
    throw new RangeError(`faults.clockOffsetMs must be a finite number of ms, got ${String(settings.clockOffsetMs)}`);
  }
  if (settings.countOffset !== undefined && !Number.isInteger(settings.countOffset)) {
    throw new RangeError(`faults.countOffset must be an integer, got ${String(settings.countOffset)}`);
  }
  if (settings.seed !== undefined && !Number.isInteger(settings.seed)) {
    throw new RangeError(`faults.seed must be an integer, got ${String(settings.seed)}`);
  }
  for (const status of settings.failStatuses ?? []) {
    if (!Number.isInteger(status) || status < 500 || status > 599)
      throw new RangeError(`faults.failStatuses must be 5xx statuses, got ${String(status)}`);
  }
  for (const kind of settings.churnKinds ?? []) {
    if (!CHURN_KINDS.includes(kind)) throw new RangeError(`faults.churnKinds: unknown kind ${JSON.stringify(kind)}`);
  }
  for (const kind of settings.badRowKinds ?? []) {
    if (!BAD_ROW_KINDS.includes(kind)) throw new RangeError(`faults.badRowKinds: unknown kind ${JSON.stringify(kind)}`);
  }
}

/**
 * FNV-1a, 32 bits, then murmur3's finaliser: turns (seed, kind, key, occurrence) into a seed for
 * mulberry32. (FNV alone leaves strings that differ in their last character with nearby hashes,
 * and mulberry32's first outputs for nearby seeds are correlated.)
 */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A request's draws: `draw(kind)` is uniform in [0, 1), the same for the same (seed, key, occurrence, kind). */
export interface RequestDraws {
  draw(kind: string): number;
}

/** Counts occurrences of request keys and hands out their draws. */
export class FaultDice {
  #seen = new Map<string, number>();

  reset(): void {
    this.#seen.clear();
  }

  /** `key` identifies the request (see the file comment); each call is one more occurrence of it. */
  next(seed: number, key: string): RequestDraws {
    const occurrence = this.#seen.get(key) ?? 0;
    this.#seen.set(key, occurrence + 1);
    return {
      draw: (kind) => mulberry32(hash32(`${seed}|${kind}|${key}|${occurrence}`))(),
    };
  }
}

/** The request key of the file comment. */
export function requestKey(path: string, query: URLSearchParams): string {
  const filtered = [...query.keys()].some((k) => k.startsWith("created_at"));
  return `${path}|limit=${query.get("limit") ?? ""}|offset=${query.get("offset") ?? ""}|${filtered ? "window" : "all"}`;
}

/** True, and counts one down, when a `...Next` counter is positive. */
export function takeNext(
  faults: FaultSettings,
  field:
    | "failNext"
    | "hangNext"
    | "resetNext"
    | "truncateNext"
    | "invalidJsonNext"
    | "badRowNext"
    | "staleNext"
    | "endlessBodyNext"
    | "oversizeBodyNext",
): boolean {
  const value = faults[field];
  if (typeof value === "number" && value > 0) {
    faults[field] = value - 1;
    return true;
  }
  return false;
}

/** Serves one row the way `kind` says. The row is a tamper copy (see json.ts). */
export function breakRow(row: Record<string, unknown>, kind: BadRowKind): Record<string, unknown> {
  switch (kind) {
    case "missing-description":
      return { ...row, description: undefined };
    case "null-description":
      return { ...row, description: null };
    case "missing-updated-at":
      return { ...row, updated_at: undefined };
    case "unknown-status":
      return { ...row, status: "refunded" };
    case "unknown-balance-type":
      return { ...row, balance_type: "api_credits" };
    case "null-after-balance":
      return { ...row, after_balance: null };
    case "nul-in-description":
      return { ...row, description: `${String(row.description)}\u0000(nul)` };
    case "lone-surrogate-in-description":
      return { ...row, description: `\ud800${String(row.description)}\udc00` };
    case "reformatted-amount": {
      // The same number written another way (-10.1 as -10.100000): a change in the payload's text.
      const amount = String(row.amount);
      return { ...row, amount: new JsonNumber(amount.includes(".") ? `${amount}00000` : `${amount}.000000`) };
    }
    case "amount-as-string":
      return { ...row, amount: String(row.amount) };
    case "missing-id":
      return { ...row, id: undefined };
    case "bad-uuid":
      return { ...row, id: "not-a-uuid" };
    case "missing-created-at":
      return { ...row, created_at: undefined };
    case "bad-datetime":
      return { ...row, created_at: "2025-13-45T25:61:00" };
  }
}

/** A proxy's error page, served with status 200: not JSON. */
export const HTML_ERROR_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";

/**
 * `count` rows of a query in the API's order, except that each run of rows sharing one created_at
 * is shuffled by `rng`: a server whose ORDER BY created_at has no tie-break. Returns [offset, offset + limit).
 */
export function unstableSlice<T extends { created_at: string }>(all: readonly T[], offset: number, limit: number, rng: () => number): T[] {
  const rows = all.slice();
  for (let start = 0; start < rows.length; ) {
    let end = start + 1;
    while (end < rows.length && rows[end]!.created_at === rows[start]!.created_at) end++;
    for (let i = end - 1; i > start; i--) {
      const j = start + Math.floor(rng() * (i - start + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    start = end;
  }
  return rows.slice(offset, offset + limit);
}
