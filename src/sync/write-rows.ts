import type pg from "pg";
import type { Transaction } from "../api/schema.js";
import { arrayLiteral, jsonArrayText, nullableArrayLiteral } from "../db/array-literal.js";
import { textArray, timestamptzArray, uuidArray } from "../db/binary-array.js";
import { type WritePath, writePath } from "../db/sql/transactions.js";
import type { WrittenLeaves } from "../proofs/written-leaves.js";
import { asMicros, formatInstant, type Micros } from "../time.js";
import type { FreshInserts } from "./fresh-inserts.js";
import type { WrittenRollups } from "./written-rollups.js";

export interface WriteContext {
  account: string;
  runId: string;
  /** One instant for the whole run, so a run's versions share their seen_at. */
  seenAt: Date;
  /** @default writePath (the previous release's statements only in the bench's comparison) */
  writePath?: WritePath;
  /**
   * Set while the window held no rows when its transaction began: the rows are inserted without
   * comparisons, and only if some row existed after all are they upserted.
   */
  fresh?: FreshInserts;
  /** Called with the batch's ids before any of them may be updated (the rollups read where moved rows were). */
  beforeUpsert?: (ids: string[]) => Promise<void>;
  /** The window's chain leaves, kept from the rows while it only inserts (see src/proofs/written-leaves.ts). */
  leaves?: WrittenLeaves;
  /** The window's rollups, likewise kept from the rows while it only inserts (see written-rollups.ts). */
  rollups?: WrittenRollups;
}

export interface WriteCounts {
  inserted: number;
  updated: number;
  /** Rows equal to the version held (stale ones not included). */
  unchanged: number;
}

/** A row not written: sent with an `updated_at` older than the version the database holds. */
export interface StaleRow {
  row: Transaction;
  heldUpdatedAt: Micros;
}

export interface WriteResult extends WriteCounts {
  stale: StaleRow[];
}

/** $1..$9 of the write statements (see incomingSql), in the form the write path reads them. */
function batchArrays(rows: Transaction[], form: WritePath["parameters"]): unknown[] {
  const amounts = arrayLiteral(rows.map((r) => r.amount));
  const afterBalances = nullableArrayLiteral(rows.map((r) => r.afterBalance));
  if (form === "binary") {
    return [
      uuidArray(rows.map((r) => r.id)),
      timestamptzArray(rows.map((r) => r.createdAt)),
      timestamptzArray(rows.map((r) => r.updatedAt)),
      textArray(rows.map((r) => r.status)),
      textArray(rows.map((r) => r.balanceType)),
      amounts,
      textArray(rows.map((r) => r.description)),
      afterBalances,
      textArray(rows.map((r) => r.raw)),
    ];
  }
  return [
    arrayLiteral(rows.map((r) => r.id)),
    arrayLiteral(rows.map((r) => formatInstant(r.createdAt))),
    nullableArrayLiteral(rows.map((r) => (r.updatedAt === null ? null : formatInstant(r.updatedAt)))),
    arrayLiteral(rows.map((r) => r.status)),
    arrayLiteral(rows.map((r) => r.balanceType)),
    amounts,
    nullableArrayLiteral(rows.map((r) => r.description)),
    afterBalances,
    jsonArrayText(rows.map((r) => r.raw)),
  ];
}

/**
 * One row per id: the same id twice in one statement would be written twice (each statement sees
 * the table as it was before it) or fail the upsert. The copy kept is the one updated last, the
 * later one when that does not tell them apart.
 */
function freshestPerId(rows: Transaction[]): Transaction[] {
  const byId = new Map<string, Transaction>();
  for (const row of rows) {
    const kept = byId.get(row.id);
    if (kept === undefined || !(row.updatedAt !== null && kept.updatedAt !== null && row.updatedAt < kept.updatedAt)) byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** Writes a batch of rows (one or more pages) with one statement; the counts are what Postgres reports, not estimates. */
export async function writeRows(db: pg.ClientBase, rows: Transaction[], context: WriteContext): Promise<WriteResult> {
  const unique = freshestPerId(rows);
  if (unique.length === 0) return { inserted: 0, updated: 0, unchanged: 0, stale: [] };
  const sql = context.writePath ?? writePath;
  const parameters = [...batchArrays(unique, sql.parameters), context.account, context.seenAt, context.runId];
  let inserted = 0;
  if (context.fresh) {
    const versionIds = sql.reserveVersionIds ? await reserveVersionIds(db, sql.reserveVersionIds, unique.length) : undefined;
    inserted = await context.fresh.insert(db, versionIds ? [...parameters, versionIds.literal] : parameters);
    if (inserted === unique.length) {
      if (versionIds) context.leaves?.inserted(unique, versionIds.ids);
      else context.leaves?.lose();
      context.rollups?.inserted(unique);
      return { inserted, updated: 0, unchanged: rows.length - inserted, stale: [] };
    }
  }
  context.leaves?.lose();
  context.rollups?.lose();
  await context.beforeUpsert?.(unique.map((r) => r.id));
  // Rows inserted just above compare equal here and count as neither inserted nor updated.
  const result = await db.query<{ inserted: number; updated: number; stale?: string[] }>(sql.upsertPage, parameters);
  const updated = result.rows[0]!.updated;
  inserted += result.rows[0]!.inserted;
  const stale = staleRows(unique, result.rows[0]!.stale ?? []);
  return { inserted, updated, unchanged: rows.length - inserted - updated - stale.length, stale };
}

/** upsertPageSql's `stale`, each "id held-updated_at-in-microseconds", matched with the rows sent. */
function staleRows(rows: Transaction[], stale: string[]): StaleRow[] {
  if (stale.length === 0) return [];
  const byId = new Map(rows.map((row) => [row.id, row]));
  return stale.map((entry) => {
    const [id, held] = entry.split(" ") as [string, string];
    return { row: byId.get(id)!, heldUpdatedAt: asMicros(Number(held)) };
  });
}

/** Version ids for `count` rows, in the order taken: the array literal the insert reads, and its elements. */
async function reserveVersionIds(db: pg.ClientBase, sql: string, count: number): Promise<{ literal: string; ids: string[] }> {
  const literal = (await db.query<{ ids: string }>(sql, [count])).rows[0]!.ids;
  return { literal, ids: literal.slice(1, -1).split(",") };
}
