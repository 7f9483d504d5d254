import type pg from "pg";
import { reconciliationSql } from "../db/sql/status.js";

export interface ReconciliationDay {
  day: string;
  apiSpent: string;
  ledgerSpent: string;
  difference: string;
  ledgerCharges: number;
}

export interface Reconciliation {
  account: string;
  timezone: string;
  tolerance: string;
  /** Days compared: captured, and whose ledger is complete (the watermark is past their end). */
  daysCompared: number;
  /** Captured days the ledger does not hold whole yet; not judged. */
  daysIncomplete: number;
  differing: ReconciliationDay[];
}

/** The days where Generect's reported spend and the ledger's differ by more than `tolerance`. */
export async function reconcile(
  db: pg.Pool | pg.Client,
  query: { account: string; timezone: string; from?: string; to?: string; tolerance: string },
): Promise<Reconciliation> {
  const { rows } = await db.query<{
    day: string;
    api_spent: string;
    ledger_spent: string;
    difference: string;
    ledger_charges: number;
    ledger_complete: boolean;
    differs: boolean;
  }>(reconciliationSql, [query.account, query.timezone, query.from ?? null, query.to ?? null, query.tolerance]);
  const complete = rows.filter((r) => r.ledger_complete);
  return {
    account: query.account,
    timezone: query.timezone,
    tolerance: query.tolerance,
    daysCompared: complete.length,
    daysIncomplete: rows.length - complete.length,
    differing: complete
      .filter((r) => r.differs)
      .map((r) => ({
        day: r.day,
        apiSpent: r.api_spent,
        ledgerSpent: r.ledger_spent,
        difference: r.difference,
        ledgerCharges: r.ledger_charges,
      })),
  };
}
