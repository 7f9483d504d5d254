// The auditor's statement as data: every renderer (CSV, JSON, HTML, PDF) reads this object and
// nothing else, so their figures cannot drift apart. Money is exact decimal text from Postgres
// `numeric` (never a JS number); `null` means "not known", never zero.

/** One month x balance type. Columns in the CSV's order and spelling. */
export interface StatementLine {
  account: string;
  /** YYYY-MM, a calendar month in the statement's timezone. */
  month: string;
  balance_type: string;
  /** Closing balance of the previous month; null when no earlier transaction of the type exists. */
  opening_balance: string | null;
  // Movements are null when the month starts at or after the watermark (the ledger holds none of it).
  /** Settled charges: sum of `success` negative amounts (a negative number). */
  charges: string | null;
  top_ups: string | null;
  refunds: string | null;
  /** Reversed charges: sum of `error` negative amounts. */
  reversed: string | null;
  /** Rows created in the month that are still `pending` as of the statement. */
  pending: string | null;
  /** after_balance of the type's last transaction before the month's end; null when none. */
  closing_balance: string | null;
  /** Generect's own figure: spent-credit snapshots of the month's local days; null when never captured. */
  generect_spent: string | null;
  /** generect_spent - charges; null when generect_spent is null. */
  difference: string | null;
  /** closing - (opening + charges + top_ups + refunds + reversed + pending); 0 when the chain adds up. */
  balance_difference: string | null;
  /** False when the watermark is before the month's end: the ledger may not hold the whole month yet. */
  complete: boolean;
}

export type DayState = "agrees" | "differs" | "incomplete" | "not_captured";

export interface StatementDay {
  day: string;
  state: DayState;
  api_spent: string | null;
  ledger_spent: string | null;
}

/** A proof is either a value or an explicit "not available yet": never an invented zero. */
export type Proof<T> = { available: true; value: T } | { available: false; reason: string };

export interface StatementProofs {
  balance_chain_breaks: Proof<number>;
  users_me_checkpoint: Proof<{ at: string; agrees: boolean }>;
  audit_sweep: Proof<{ at: string; result: string }>;
  /** Unresolved rows of quarantined_rows for the account. */
  quarantined_rows: Proof<number>;
  /** Local days of the range the ledger does not hold whole yet (watermark before their end). */
  days_not_complete: Proof<{ count: number; first: string | null }>;
  /** Captured days whose Generect figure differs from the ledger's. */
  days_differing: Proof<number>;
}

export interface StatementProvenance {
  generated_at: string;
  version: string;
  timezone: string;
  first_run_id: string | null;
  last_run_id: string | null;
  /** Every transaction created before this instant is in the database; null: never synced. */
  watermark: string | null;
}

export interface Statement {
  account: string;
  from: string;
  to: string;
  /** What an auditor must read before the figures: empty account, months not yet complete. */
  notices: string[];
  lines: StatementLine[];
  days: StatementDay[];
  proofs: StatementProofs;
  provenance: StatementProvenance;
}

/** CSV header, in the spelling; balance_difference and complete follow the required ones. */
export const CSV_COLUMNS = [
  "account",
  "month",
  "balance_type",
  "opening_balance",
  "charges",
  "top_ups",
  "refunds",
  "reversed",
  "pending",
  "closing_balance",
  "generect_spent",
  "difference",
  "balance_difference",
  "complete",
] as const satisfies readonly (keyof StatementLine)[];

export function notAvailable(reason: string): Proof<never> {
  return { available: false, reason };
}
