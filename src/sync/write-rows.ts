import type pg from "pg";
import type { Transaction } from "../api/schema.js";
import { arrayLiteral, jsonArrayText, nullableArrayLiteral } from "../db/array-literal.js";
import { type WritePath, writePath } from "../db/sql/transactions.js";

export interface WriteContext {
  account: string;
  runId: string;
  /** One instant for the whole run, so a run's versions share their seen_at. */
  seenAt: Date;
  /** @default writePath (the previous release's statements only in the bench's comparison) */
  writePath?: WritePath;
  /**
   * The window held no rows when its transaction began: the rows are inserted without comparisons,
   * and only if some row existed after all are they upserted. @default false
   */
  fresh?: boolean;
  /** Called with the batch's ids before any of them may be updated (the rollups read where moved rows were). */
  beforeUpsert?: (ids: string[]) => Promise<void>;
}

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Writes a batch of rows (one or more pages) with one statement; the counts are what Postgres reports, not estimates. */
export async function writeRows(db: pg.ClientBase, rows: Transaction[], context: WriteContext): Promise<WriteCounts> {
  // The same id twice in one statement would be written twice (each statement sees the table as it
  // was before it) or fail the upsert; the later copy is the fresher one.
  const unique = [...new Map(rows.map((row) => [row.id, row])).values()];
  if (unique.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const parameters = [
    arrayLiteral(unique.map((r) => r.id)),
    arrayLiteral(unique.map((r) => r.createdAtPg)),
    nullableArrayLiteral(unique.map((r) => r.updatedAtPg)),
    arrayLiteral(unique.map((r) => r.status)),
    arrayLiteral(unique.map((r) => r.balanceType)),
    arrayLiteral(unique.map((r) => r.amount)),
    nullableArrayLiteral(unique.map((r) => r.description)),
    nullableArrayLiteral(unique.map((r) => r.afterBalance)),
    jsonArrayText(unique.map((r) => r.raw)),
    context.account,
    context.seenAt,
    context.runId,
  ];
  const sql = context.writePath ?? writePath;
  let inserted = 0;
  if (context.fresh) {
    inserted = (await db.query<{ inserted: number }>(sql.insertNewPage, parameters)).rows[0]!.inserted;
    if (inserted === unique.length) return { inserted, updated: 0, unchanged: rows.length - inserted };
  }
  await context.beforeUpsert?.(unique.map((r) => r.id));
  // Rows inserted just above compare equal here and count as neither inserted nor updated.
  const result = await db.query<{ inserted: number; updated: number }>(sql.upsertPage, parameters);
  const updated = result.rows[0]!.updated;
  inserted += result.rows[0]!.inserted;
  return { inserted, updated, unchanged: rows.length - inserted - updated };
}
