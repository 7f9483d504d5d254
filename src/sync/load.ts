import type pg from "pg";
import type { Transaction } from "../api/schema.js";
import { toPgTimestamp } from "../api/time.js";
import { upsertPageSql } from "./sql.js";

export interface LoadContext {
  account: string;
  runId: string;
  /** One instant for the whole run, so a run's versions share their seen_at. */
  seenAt: Date;
}

export interface LoadCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Writes a batch of rows (one or more pages) with one statement; the counts are what Postgres reports, not estimates. */
export async function loadPage(db: pg.ClientBase, rows: Transaction[], context: LoadContext): Promise<LoadCounts> {
  // The same id twice in one INSERT ... ON CONFLICT is an error; the later copy is the fresher one.
  const unique = [...new Map(rows.map((row) => [row.id, row])).values()];
  if (unique.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const result = await db.query<{ inserted: number; updated: number }>(upsertPageSql, [
    unique.map((r) => r.id),
    unique.map((r) => toPgTimestamp(r.createdAt)),
    unique.map((r) => toPgTimestamp(r.updatedAt)),
    unique.map((r) => r.status),
    unique.map((r) => r.balanceType),
    unique.map((r) => r.amount),
    unique.map((r) => r.description),
    unique.map((r) => r.afterBalance),
    unique.map((r) => r.raw),
    context.account,
    context.seenAt,
    context.runId,
  ]);
  const { inserted, updated } = result.rows[0]!;
  return { inserted, updated, unchanged: rows.length - inserted - updated };
}
