import pg from "pg";
import { normalizeDecimal } from "./decimal.js";
import type { Ledger } from "./ledger.js";
import type { SimTransaction } from "./types.js";

/** Every field of a transaction, as text, the way the database holds it. */
const liveRowsSql = `
SELECT id::text,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at,
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS updated_at,
       status, balance_type, amount::text AS amount, description, after_balance::text AS after_balance,
       raw::text AS raw
FROM transactions
WHERE account = $1 AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC`;

export interface LedgerDifference {
  missing: string[];
  unexpected: string[];
  /** id → field → [database, simulator] */
  different: Map<string, Record<string, [string, string]>>;
  compared: number;
}

const fields = ["created_at", "updated_at", "status", "balance_type", "amount", "description", "after_balance"] as const;

/**
 * Compares the account's live rows with the simulator's ledger, row by row and field by field
 * (money compared as exact decimals, times to the microsecond, raw against the fields it holds).
 */
export async function compareWithLedger(databaseUrl: string, account: string, ledger: Ledger | SimTransaction[]): Promise<LedgerDifference> {
  const truth = new Map((Array.isArray(ledger) ? ledger : ledger.all()).map((row) => [row.id, row]));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<Record<(typeof fields)[number] | "id" | "raw", string>>(liveRowsSql, [account]).finally(() => client.end());
  const diff: LedgerDifference = { missing: [], unexpected: [], different: new Map(), compared: rows.length };
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.id);
    const expected = truth.get(row.id);
    if (!expected) {
      diff.unexpected.push(row.id);
      continue;
    }
    const wrong: Record<string, [string, string]> = {};
    for (const field of fields) {
      const money = field === "amount" || field === "after_balance";
      const actual = money ? normalizeDecimal(row[field]) : row[field];
      const wanted = money ? normalizeDecimal(expected[field]) : expected[field];
      if (actual !== wanted) wrong[field] = [actual, wanted];
    }
    const raw = JSON.parse(row.raw) as Record<string, unknown>;
    for (const field of fields) {
      const value = raw[field];
      const text = typeof value === "number" ? normalizeDecimal(String(value)) : String(value);
      const wanted = field === "amount" || field === "after_balance" ? normalizeDecimal(expected[field]) : expected[field];
      if (text !== wanted) wrong[`raw.${field}`] = [text, wanted];
    }
    if (Object.keys(wrong).length) diff.different.set(row.id, wrong);
  }
  for (const id of truth.keys()) if (!seen.has(id)) diff.missing.push(id);
  return diff;
}

export function isEqual(diff: LedgerDifference): boolean {
  return diff.missing.length === 0 && diff.unexpected.length === 0 && diff.different.size === 0;
}

export function describeDifference(diff: LedgerDifference): string {
  const parts = [];
  if (diff.missing.length) parts.push(`${diff.missing.length} missing (e.g. ${diff.missing.slice(0, 3).join(", ")})`);
  if (diff.unexpected.length) parts.push(`${diff.unexpected.length} unexpected (e.g. ${diff.unexpected.slice(0, 3).join(", ")})`);
  if (diff.different.size) {
    const [id, fieldsWrong] = diff.different.entries().next().value!;
    parts.push(`${diff.different.size} different (e.g. ${id}: ${JSON.stringify(fieldsWrong)})`);
  }
  return parts.length ? parts.join("; ") : `equal: ${diff.compared} rows`;
}
