import { z } from "zod";
import { ApiResponseError } from "../errors.js";
import { type Micros, parseTimestamp } from "../time.js";
import { type ExactNumber, isExactNumber, numberLiteral, parseJsonElementsKeepingNumbers, parseJsonKeepingNumbers } from "./json.js";

// The documented shapes of the two endpoints. Numbers arrive exact (see json.ts).

const rawNumber = z.custom<ExactNumber>(isExactNumber, { message: "expected a JSON number" });
const wholeNumber = rawNumber
  .transform((n) => Number(numberLiteral(n)))
  .refine((n) => Number.isSafeInteger(n) && n >= 0, { message: "expected a whole number >= 0" });
/** The statuses Generect documents; others are stored as sent (status is open text). */
export const transactionStatuses = ["pending", "success", "error"] as const;

const envelopeSchema = z.looseObject({
  count: wholeNumber,
  next: z.string().nullable().optional(),
  previous: z.string().nullable().optional(),
  limit: wholeNumber.optional(),
  max_limit: wholeNumber.optional(),
  offset: wholeNumber.optional(),
  results: z.array(z.unknown(), { message: "expected an array of transactions" }),
});

/** One transaction as the loader writes it: exact money as decimal text, times in microseconds. */
export interface Transaction {
  id: string;
  createdAt: Micros;
  /** Null when the API left updated_at out or sent null. */
  updatedAt: Micros | null;
  /** Open text, sanitised (see sanitiseText); the documented values are transactionStatuses. */
  status: string;
  balanceType: string;
  amount: string;
  /** Sanitised (see sanitiseText); null when the API sent null or nothing. */
  description: string | null;
  /** Null when the API sent null or nothing. */
  afterBalance: string | null;
  /** The row as JSON text: every value as sent, number literals verbatim (see rowText). */
  raw: string;
}

/** A row that cannot be a transaction: kept with its text, never written to `transactions`. */
export interface RejectedRow {
  /** The row's id when it is a readable uuid (lowercased), else null. */
  id: string | null;
  /** Stable reason, e.g. MISSING_ID, BAD_CREATED_AT, BAD_AMOUNT. */
  code: string;
  /** The problem in words: the field and what was received. */
  reason: string;
  /** The row as JSON text (see rowText). */
  raw: string;
  /** Position in its page, from 1. */
  position: number;
  /** created_at when it is readable (the problem lies elsewhere), else null. */
  createdAt: Micros | null;
}

export interface TransactionsPage {
  count: number;
  limit: number | undefined;
  maxLimit: number | undefined;
  offset: number | undefined;
  rows: Transaction[];
  /** Rows of the page that cannot be transactions; a page holding them is still a page. */
  rejected: RejectedRow[];
}

function describe(value: unknown): string {
  if (isExactNumber(value)) return `number ${numberLiteral(value)}`;
  if (value === null) return "null";
  const text = JSON.stringify(value) ?? String(value);
  const kind = Array.isArray(value) ? "array" : typeof value;
  return `${kind} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function firstIssue(error: z.ZodError, value: unknown): { field: string; detail: string } {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join(".") || "(row)";
  let actual: unknown = value;
  for (const key of issue.path) actual = (actual as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  const got = actual === undefined ? "it is missing" : `got ${describe(actual)}`;
  return { field, detail: `${issue.message}, ${got}` };
}

function parseJsonBody<T = unknown>(
  text: string,
  where: string,
  parse: (text: string) => T = parseJsonKeepingNumbers as (text: string) => T,
): T {
  try {
    return parse(text);
  } catch (error) {
    const preview = text.length > 80 ? `${text.slice(0, 80)}...` : text;
    throw new ApiResponseError(`${where}: the body is not valid JSON (${(error as Error).message}); it begins ${JSON.stringify(preview)}`, {
      cause: error,
    });
  }
}

// Node >= 20 has both (ES2024); the project's lib is ES2023.
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/**
 * The text a text column holds. Postgres text cannot hold NUL, and a lone UTF-16 surrogate has no
 * UTF-8 form: each becomes U+FFFD, the replacement character, so the same input always gives the
 * same text and every other character is kept. `raw` keeps the original.
 */
export function sanitiseText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes("\u0000") ? wellFormed.replaceAll("\u0000", "\uFFFD") : wellFormed;
}

/**
 * The row as JSON text: keys in the order sent, number literals verbatim (json.ts), strings escaped
 * the JSON.stringify way (a NUL as \u0000, a lone surrogate as \ud800). Lossless: parsing it gives
 * back every value; -10.100000 and -10.1 are different texts.
 */
function rowText(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why a field keeps a row from being a transaction: a stable code and words naming the field. */
class RowProblem {
  constructor(
    readonly code: string,
    readonly field: string,
    readonly detail: string,
  ) {}
}

function got(value: unknown): string {
  return value === undefined ? "it is missing" : `got ${describe(value)}`;
}

function requiredTimestamp(row: Record<string, unknown>, field: string, code: string): Micros {
  const value = row[field];
  if (value === undefined || value === null)
    throw new RowProblem(`MISSING_${code}`, field, `expected a datetime like 2025-01-07T13:01:15.397996, ${got(value)}`);
  const micros = typeof value === "string" ? parseTimestamp(value) : undefined;
  if (micros === undefined)
    throw new RowProblem(`BAD_${code}`, field, `expected a datetime like 2025-01-07T13:01:15.397996, ${got(value)}`);
  return micros;
}

function optionalNumber(row: Record<string, unknown>, field: string, code: string): string | null {
  const value = row[field];
  if (value === undefined || value === null) return null;
  if (!isExactNumber(value)) throw new RowProblem(`BAD_${code}`, field, `expected a JSON number, ${got(value)}`);
  return numberLiteral(value);
}

function requiredText(row: Record<string, unknown>, field: string, code: string): string {
  const value = row[field];
  if (typeof value !== "string")
    throw new RowProblem(
      value === undefined || value === null ? `MISSING_${code}` : `BAD_${code}`,
      field,
      `expected a string, ${got(value)}`,
    );
  return sanitiseText(value);
}

/**
 * Reads one row. What still describes a transaction is accepted: updated_at, description and
 * after_balance may be null or missing, status and balance_type are open text, text is sanitised.
 * A row without a readable id, created_at or amount (or with a field of the wrong type) cannot be
 * one: it comes back as a RejectedRow naming the field, instead of failing its page.
 */
export function readTransactionRow(value: unknown, where: string, position: number, raw = rowText(value)): Transaction | RejectedRow {
  const row = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const idValue = row?.id;
  const id = typeof idValue === "string" && uuidPattern.test(idValue) ? idValue.toLowerCase() : null;
  try {
    if (!row) throw new RowProblem("NOT_AN_OBJECT", "(row)", `expected an object, ${got(value)}`);
    if (id === null)
      throw new RowProblem(idValue === undefined || idValue === null ? "MISSING_ID" : "BAD_ID", "id", `expected a uuid, ${got(idValue)}`);
    const created = requiredTimestamp(row, "created_at", "CREATED_AT");
    const updated = row.updated_at === undefined || row.updated_at === null ? null : requiredTimestamp(row, "updated_at", "UPDATED_AT");
    const amount = optionalNumber(row, "amount", "AMOUNT");
    if (amount === null) throw new RowProblem("MISSING_AMOUNT", "amount", `expected a JSON number, ${got(row.amount)}`);
    const description = row.description;
    if (description !== undefined && description !== null && typeof description !== "string") {
      throw new RowProblem("BAD_DESCRIPTION", "description", `expected a string or null, ${got(description)}`);
    }
    return {
      id,
      createdAt: created,
      updatedAt: updated,
      status: requiredText(row, "status", "STATUS"),
      balanceType: requiredText(row, "balance_type", "BALANCE_TYPE"),
      amount,
      description: typeof description === "string" ? sanitiseText(description) : null,
      afterBalance: optionalNumber(row, "after_balance", "AFTER_BALANCE"),
      raw,
    };
  } catch (error) {
    if (!(error instanceof RowProblem)) throw error;
    const who = id !== null ? `transaction ${id}` : "a transaction without a readable id";
    const created = typeof row?.created_at === "string" ? parseTimestamp(row.created_at) : undefined;
    return {
      id,
      code: error.code,
      reason: `${where}, row ${position}: ${who} has an invalid field "${error.field}": ${error.detail}`,
      raw,
      position,
      createdAt: created ?? null,
    };
  }
}

export function isRejected(row: Transaction | RejectedRow): row is RejectedRow {
  return "code" in row;
}

/** Parses and validates a `GET /api/auth/transactions/` body. */
export function parseTransactionsPage(text: string, where: string): TransactionsPage {
  // Each row's text (its raw) comes with the parse: the exactness check compares the body with them.
  const { value: body, elements } = parseJsonBody(text, where, (text) => parseJsonElementsKeepingNumbers(text, "results"));
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    const { field, detail } = firstIssue(envelope.error, body);
    throw new ApiResponseError(`${where}: the response envelope has an invalid field "${field}": ${detail}`);
  }
  const { count, limit, max_limit, offset, results } = envelope.data;
  const rows: Transaction[] = [];
  const rejected: RejectedRow[] = [];
  results.forEach((value, index) => {
    const row = readTransactionRow(value, where, index + 1, elements?.[index]);
    if (isRejected(row)) rejected.push(row);
    else rows.push(row);
  });
  return { count, limit, maxLimit: max_limit, offset, rows, rejected };
}

const spentCreditsSchema = z.looseObject({
  spent_credits: z.record(z.string(), z.record(z.string(), rawNumber)),
  total_spent_credits: rawNumber,
});

export interface SpentCredits {
  /** bucket key as sent (local start of the bucket) → endpoint label → credits as exact decimal text */
  buckets: Map<string, Map<string, string>>;
  total: string;
}

type SpentCreditsBody = z.infer<typeof spentCreditsSchema>;

/** A plain JSON object (not an array, nor a number kept as JSON.rawJSON, whose prototype is null). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Whether spentCreditsSchema holds for the body, checked by hand: a first capture answers about
 * 7,700 values an account, and zod's record checks were most of reading them. Stricter than the
 * schema where it is cheap to be (a `__proto__` key): what this refuses goes to zod, which accepts
 * or words the failure, so what is accepted and every message stay zod's.
 */
function isSpentCreditsBody(body: unknown): body is SpentCreditsBody {
  if (!isPlainObject(body) || !isExactNumber(body.total_spent_credits)) return false;
  const buckets = body.spent_credits;
  if (!isPlainObject(buckets)) return false;
  for (const bucket in buckets) {
    const labels = buckets[bucket];
    if (bucket === "__proto__" || !Object.hasOwn(buckets, bucket) || !isPlainObject(labels)) return false;
    for (const label in labels) {
      if (label === "__proto__" || !Object.hasOwn(labels, label) || !isExactNumber(labels[label])) return false;
    }
  }
  return true;
}

/** Parses and validates a `GET /api/auth/transactions/spent_credits/` body. */
export function parseSpentCredits(text: string, where: string): SpentCredits {
  const body = parseJsonBody(text, where);
  let data: SpentCreditsBody;
  if (isSpentCreditsBody(body)) data = body;
  else {
    const result = spentCreditsSchema.safeParse(body);
    if (!result.success) {
      const { field, detail } = firstIssue(result.error, body);
      throw new ApiResponseError(`${where}: the response has an invalid field "${field}": ${detail}`);
    }
    data = result.data;
  }
  const buckets = new Map<string, Map<string, string>>();
  for (const [bucket, labels] of Object.entries(data.spent_credits)) {
    buckets.set(bucket, new Map(Object.entries(labels).map(([label, value]) => [label, numberLiteral(value)])));
  }
  return { buckets, total: numberLiteral(data.total_spent_credits) };
}

/** The users/me fields the sync keeps: balances, nothing of the profile (email, names, logo, ...). */
const balanceField = /^(blocked_)?balance_[a-z0-9_]+$/;
const balancesSchema = z.record(z.string().regex(balanceField), rawNumber.nullable());

/** Balances from `GET /api/auth/users/me/`: field name → exact decimal text. */
export type UsersMeBalances = Map<string, string>;

/**
 * Parses a `GET /api/auth/users/me/` body down to its balance_* and blocked_balance_* fields; every
 * other field is dropped before validation, so no personal data outlives this function. A balance
 * sent as null is left out.
 */
export function parseUsersMe(text: string, where: string): UsersMeBalances {
  const body = parseJsonBody(text, where);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiResponseError(`${where}: expected a JSON object`);
  const picked = Object.fromEntries(Object.entries(body).filter(([key]) => balanceField.test(key)));
  const result = balancesSchema.safeParse(picked);
  if (!result.success) {
    const { field, detail } = firstIssue(result.error, picked);
    throw new ApiResponseError(`${where}: the response has an invalid field "${field}": ${detail}`);
  }
  const balances: UsersMeBalances = new Map();
  for (const [field, value] of Object.entries(result.data)) if (value !== null) balances.set(field, numberLiteral(value));
  if (balances.size === 0) throw new ApiResponseError(`${where}: the response holds no balance_* field`);
  return balances;
}
