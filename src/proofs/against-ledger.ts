import type pg from "pg";
import { normalizeDecimal } from "../simulator/decimal.js";
import { REJECTED_ROW_KINDS } from "../simulator/faults.js";
import { rowJson } from "../simulator/json.js";
import type { Ledger } from "../simulator/ledger.js";
import type { SimTransaction } from "../simulator/types.js";

/** Every field of a transaction, as text, the way the database holds it. */
const liveRowsSql = `
SELECT id::text,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at,
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS updated_at,
       status, balance_type, amount::text AS amount, description, after_balance::text AS after_balance,
       raw
FROM transactions
WHERE account = $1 AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC`;

export interface LedgerDifference {
  missing: string[];
  /** Rows the API serves as no transaction (REJECTED_ROW_KINDS): not compared, expected in quarantined_rows. */
  rejected: string[];
  unexpected: string[];
  /** id → field → [database, simulator] */
  different: Map<string, Record<string, [string, string]>>;
  compared: number;
}

const fields = ["created_at", "updated_at", "status", "balance_type", "amount", "description", "after_balance", "raw"] as const;

/**
 * The README's sanitised form, written independently of the sync's: a NUL and every UTF-16
 * surrogate without its partner become U+FFFD, everything else is kept.
 */
export function sanitisedText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const high = c >= 0xd800 && c <= 0xdbff;
    const next = text.charCodeAt(i + 1);
    if (high && next >= 0xdc00 && next <= 0xdfff) {
      out += text.slice(i, i + 2);
      i++;
    } else if (c === 0 || high || (c >= 0xdc00 && c <= 0xdfff)) {
      out += "\uFFFD";
    } else {
      out += text[i];
    }
  }
  return out;
}

/**
 * What the database must hold for a row the API serves as `served` (its exact JSON text): the
 * truth's instants and money, null where the API sent null or nothing, text sanitised, raw the
 * served text itself.
 */
function expectedRow(truth: SimTransaction, served: string): Record<(typeof fields)[number], string | null> {
  const sent = JSON.parse(served) as Record<string, unknown>;
  const absent = (field: string) => sent[field] === undefined || sent[field] === null;
  return {
    created_at: truth.created_at,
    updated_at: absent("updated_at") ? null : truth.updated_at,
    status: sanitisedText(String(sent.status)),
    balance_type: sanitisedText(String(sent.balance_type)),
    amount: normalizeDecimal(truth.amount),
    description: absent("description") ? null : sanitisedText(String(sent.description)),
    after_balance: absent("after_balance") ? null : normalizeDecimal(truth.after_balance),
    raw: served,
  };
}

/**
 * Compares the account's live rows with the simulator's ledger, row by row and field by field,
 * against each row as the API serves it (a Ledger's odd rows included): money as exact decimals,
 * times to the microsecond, raw as the exact text served. Rows served as no transaction are
 * listed in `rejected` and not compared. The connection is the caller's: the simulator opens none.
 */
export async function compareWithLedger(
  db: Pick<pg.ClientBase, "query">,
  account: string,
  ledger: Ledger | SimTransaction[],
): Promise<LedgerDifference> {
  const rows = Array.isArray(ledger) ? ledger : ledger.all();
  const served = (row: SimTransaction) => (Array.isArray(ledger) ? rowJson(row) : ledger.served(row));
  const odd = (row: SimTransaction) => (Array.isArray(ledger) ? undefined : ledger.oddKind(row.id));
  const truth = new Map(rows.map((row) => [row.id, row]));
  const { rows: held } = await db.query<Record<(typeof fields)[number] | "id", string | null>>(liveRowsSql, [account]);
  const diff: LedgerDifference = { missing: [], rejected: [], unexpected: [], different: new Map(), compared: 0 };
  const rejected = new Set(rows.filter((row) => REJECTED_ROW_KINDS.includes(odd(row)!)).map((row) => row.id));
  diff.rejected = [...rejected];
  const seen = new Set<string>();
  for (const row of held) {
    const id = row.id!;
    seen.add(id);
    if (rejected.has(id)) continue;
    const expected = truth.get(id);
    if (!expected) {
      diff.unexpected.push(id);
      continue;
    }
    diff.compared += 1;
    const wanted = expectedRow(expected, served(expected));
    const wrong: Record<string, [string, string]> = {};
    for (const field of fields) {
      const money = field === "amount" || field === "after_balance";
      const actual = money && row[field] !== null ? normalizeDecimal(row[field]) : row[field];
      if (actual !== wanted[field]) wrong[field] = [String(actual), String(wanted[field])];
    }
    if (Object.keys(wrong).length) diff.different.set(id, wrong);
  }
  for (const id of truth.keys()) if (!seen.has(id) && !rejected.has(id)) diff.missing.push(id);
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
