import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import { findOldestTransaction } from "../api/oldest.js";
import { arrayLiteral } from "../db/array-literal.js";
import { inTransaction } from "../db/database.js";
import { appendSnapshotsSql, lastCapturedDaySql, recordCaptureSql } from "../db/sql/snapshots.js";
import { addSnapshotCountsSql } from "../db/sql/sync-runs.js";
import { oldestTransactionSql } from "../db/sql/transactions.js";
import { type DatabaseStep, directly } from "../db/step.js";
import type { Logger } from "../log.js";
import { ensureRollupZone } from "../sync/rollups.js";
import type { Micros } from "../time.js";
import { dayValues } from "./buckets.js";
import { addDays, dayChunks, daysBetween, localDate } from "./days.js";

/**
 * The most days one spent_credits request asks for. The contract sets no range limit, but one
 * answer is one body read whole and one transaction, and the server aggregates the whole range at
 * once: four years keeps both bounded while the first capture of most accounts is one request (a
 * fleet's first backfill spends its request slots on these beside the transaction pages).
 */
export const maxChunkDays = 1461;

/**
 * More than one day of an answer can take: its bucket key and a value for each of the 7 endpoint
 * labels the API lists, about 170 bytes of JSON when every label spent that day (measured on the
 * simulator's answers), with room for a few more labels and pretty-printing.
 */
const dayBytesBound = 512;

/** Days per request: at most maxChunkDays, and few enough that an answer stays within GENERECT_MAX_RESPONSE_BYTES. */
export function chunkDaysWithin(maxResponseBytes: number): number {
  return Math.max(1, Math.min(maxChunkDays, Math.floor(maxResponseBytes / dayBytesBound)));
}

export interface SnapshotContext {
  pool: pg.Pool;
  client: GenerectClient;
  account: string;
  timezone: string;
  restateDays: number;
  /** SYNC_START: the first capture reaches back to it, or else to the oldest transaction. */
  start: Micros | undefined;
  /** GENERECT_MAX_RESPONSE_BYTES: bounds the days one request asks for (chunkDaysWithin). */
  maxResponseBytes: number;
  runId: string;
  capturedAt: Date;
  log: Logger;
  signal?: AbortSignal;
  /** false: the database has no rollups to register the zone in (the bench's previous-release schema). @default true */
  rollups?: boolean;
  /** Runs each step on the database (a run's retries a lost connection). @default directly */
  onDatabase?: DatabaseStep;
}

export interface SnapshotStats {
  from: string | undefined;
  to: string | undefined;
  days: number;
  rows: number;
  restated: number;
  totalMismatches: number;
}

async function firstDay(context: SnapshotContext, onDatabase: DatabaseStep): Promise<string | undefined> {
  const { pool, account, timezone } = context;
  const last = (
    await onDatabase("reading the last captured day", () => pool.query<{ day: string | null }>(lastCapturedDaySql, [account, timezone]))
  ).rows[0]?.day;
  if (last) return addDays(last, -context.restateDays);
  if (context.start !== undefined) return localDate(context.start / 1000, timezone);
  const stored = (await onDatabase("reading the oldest row", () => pool.query<{ ms: string | null }>(oldestTransactionSql, [account])))
    .rows[0]?.ms;
  if (stored) return localDate(Number(stored), timezone);
  const oldest = await findOldestTransaction(context.client);
  return oldest === undefined ? undefined : localDate(oldest / 1000, timezone);
}

/**
 * Captures daily spent credits from the first day to capture up to today (local to the timezone),
 * chunk by chunk; each chunk is one request and one database transaction.
 */
export async function captureSnapshots(context: SnapshotContext): Promise<SnapshotStats> {
  const { pool, client, account, timezone, runId, capturedAt, log } = context;
  const onDatabase = context.onDatabase ?? directly;
  const today = localDate(capturedAt.getTime(), timezone);
  const from = await firstDay(context, onDatabase);
  // Reconciliation compares the captured days with the ledger's daily rollups in the same zone.
  if (context.rollups !== false)
    await onDatabase("the capture zone's rollups", () => inTransaction(pool, (db) => ensureRollupZone(db, account, timezone)));
  const stats: SnapshotStats = { from, to: today, days: 0, rows: 0, restated: 0, totalMismatches: 0 };
  if (from === undefined) {
    log.info({ timezone }, "no transactions yet: no spent credits to capture");
    return { ...stats, to: undefined };
  }

  // biome-ignore lint/complexity/useMathMinMax: local dates as yyyy-mm-dd text, compared as text
  for (const [startDate, endDate] of dayChunks(from > today ? today : from, today, chunkDaysWithin(context.maxResponseBytes))) {
    context.signal?.throwIfAborted();
    const answer = await client.spentCredits({ timezone, period: "day", startDate, endDate });
    const values = dayValues(answer, { timezone, startDate, endDate });
    // Array literals made here, as node-postgres would make them from the arrays (each element
    // quoted and escaped), with one join instead of two regular expressions an element: a first
    // capture is about 7,700 values an account, more than its 2,000 rows.
    const credits = arrayLiteral(values.map((v) => v.credits));
    const chunk = await onDatabase("the spent credits", () =>
      inTransaction(pool, async (db) => {
        const written = await db.query<{ written: number; restated: number }>(appendSnapshotsSql, [
          account,
          timezone,
          capturedAt,
          arrayLiteral(values.map((v) => v.day)),
          arrayLiteral(values.map((v) => v.endpoint)),
          credits,
          startDate,
          endDate,
          runId,
        ]);
        const capture = await db.query<{ total_matches: boolean; values_total: string }>(recordCaptureSql, [
          account,
          timezone,
          startDate,
          endDate,
          capturedAt,
          runId,
          answer.total,
          credits,
          answer.buckets.size,
        ]);
        const { written: rows, restated } = written.rows[0]!;
        const mismatch = capture.rows[0]!.total_matches ? 0 : 1;
        const days = daysBetween(startDate, endDate) + 1;
        await db.query(addSnapshotCountsSql, [runId, days, rows, restated, mismatch]);
        if (mismatch) {
          log.warn(
            { timezone, startDate, endDate, apiTotal: answer.total, valuesTotal: capture.rows[0]!.values_total },
            "spent_credits total_spent_credits differs from the sum of its values",
          );
        }
        return { days, rows, restated, mismatch };
      }),
    );
    stats.days += chunk.days;
    stats.rows += chunk.rows;
    stats.restated += chunk.restated;
    stats.totalMismatches += chunk.mismatch;
  }
  log.info(
    { timezone, from, to: today, rows: stats.rows, restated: stats.restated, totalMismatches: stats.totalMismatches },
    "spent credits captured",
  );
  return stats;
}
