import { z } from "zod";
import { ApiResponseError } from "../errors.js";
import { type ExactNumber, isExactNumber, numberLiteral, parseJsonKeepingNumbers } from "./json.js";
import { type Micros, parseTimestamp, toPgTimestampText } from "./time.js";

// The documented shapes of the two endpoints. Numbers arrive exact (see json.ts).

const rawNumber = z.custom<ExactNumber>(isExactNumber, { message: "expected a JSON number" });
const wholeNumber = rawNumber
  .transform((n) => Number(numberLiteral(n)))
  .refine((n) => Number.isSafeInteger(n) && n >= 0, { message: "expected a whole number >= 0" });
/** Parsed once: the instant, and text Postgres reads as the same instant (see toPgTimestampText). */
const apiTimestamp = z.string().transform((text, context) => {
  const micros = parseTimestamp(text);
  if (micros === undefined) {
    context.addIssue({ code: "custom", message: "expected a datetime like 2025-01-07T13:01:15.397996" });
    return z.NEVER;
  }
  return { micros, pg: toPgTimestampText(text, micros) };
});

export const transactionStatuses = ["pending", "success", "error"] as const;

export const transactionRowSchema = z.looseObject({
  id: z.uuid({ message: "expected a uuid" }),
  created_at: apiTimestamp,
  updated_at: apiTimestamp,
  status: z.enum(transactionStatuses, { message: `expected one of ${transactionStatuses.join(", ")}` }),
  balance_type: z.string().min(1, { message: "expected a non-empty string" }),
  amount: rawNumber,
  description: z.string({ message: "expected a string" }),
  after_balance: rawNumber,
});

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
  updatedAt: Micros;
  /** The same instants as text for Postgres' timestamptz, microseconds included. */
  createdAtPg: string;
  updatedAtPg: string;
  status: (typeof transactionStatuses)[number];
  balanceType: string;
  amount: string;
  description: string;
  afterBalance: string;
  /** The row exactly as the API sent it (number literals verbatim). */
  raw: string;
}

export interface TransactionsPage {
  count: number;
  limit: number | undefined;
  maxLimit: number | undefined;
  offset: number | undefined;
  rows: Transaction[];
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

function parseJsonBody(text: string, where: string): unknown {
  try {
    return parseJsonKeepingNumbers(text);
  } catch (error) {
    const preview = text.length > 80 ? `${text.slice(0, 80)}...` : text;
    throw new ApiResponseError(`${where}: the body is not valid JSON (${(error as Error).message}); it begins ${JSON.stringify(preview)}`, { cause: error });
  }
}

/** Validates one row; the error names the row id (when readable), its position and the field. */
export function parseTransactionRow(value: unknown, where: string): Transaction {
  const result = transactionRowSchema.safeParse(value);
  if (!result.success) {
    const id = (value as { id?: unknown } | null)?.id;
    const who = typeof id === "string" && id.length <= 64 ? `transaction ${id}` : "a transaction without a readable id";
    const { field, detail } = firstIssue(result.error, value);
    throw new ApiResponseError(`${where}: ${who} has an invalid field "${field}": ${detail}`);
  }
  const row = result.data;
  return {
    id: row.id.toLowerCase(),
    createdAt: row.created_at.micros,
    updatedAt: row.updated_at.micros,
    createdAtPg: row.created_at.pg,
    updatedAtPg: row.updated_at.pg,
    status: row.status,
    balanceType: row.balance_type,
    amount: numberLiteral(row.amount),
    description: row.description,
    afterBalance: numberLiteral(row.after_balance),
    raw: JSON.stringify(value),
  };
}

/** Parses and validates a `GET /api/auth/transactions/` body. */
export function parseTransactionsPage(text: string, where: string): TransactionsPage {
  const body = parseJsonBody(text, where);
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    const { field, detail } = firstIssue(envelope.error, body);
    throw new ApiResponseError(`${where}: the response envelope has an invalid field "${field}": ${detail}`);
  }
  const { count, limit, max_limit, offset, results } = envelope.data;
  return {
    count,
    limit,
    maxLimit: max_limit,
    offset,
    rows: results.map((row, index) => parseTransactionRow(row, `${where}, row ${index + 1}`)),
  };
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

/** Parses and validates a `GET /api/auth/transactions/spent_credits/` body. */
export function parseSpentCredits(text: string, where: string): SpentCredits {
  const body = parseJsonBody(text, where);
  const result = spentCreditsSchema.safeParse(body);
  if (!result.success) {
    const { field, detail } = firstIssue(result.error, body);
    throw new ApiResponseError(`${where}: the response has an invalid field "${field}": ${detail}`);
  }
  const buckets = new Map<string, Map<string, string>>();
  for (const [bucket, labels] of Object.entries(result.data.spent_credits)) {
    buckets.set(bucket, new Map(Object.entries(labels).map(([label, value]) => [label, numberLiteral(value)])));
  }
  return { buckets, total: numberLiteral(result.data.total_spent_credits) };
}
