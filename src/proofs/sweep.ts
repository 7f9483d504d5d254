// The audit sweep: for every window of the account's history, the API's count (one limit=1
// request) against the database's live rows in that window. It does not trust the sync's own
// bookkeeping: the counts come from the API and from the table, nothing else.
import pLimit from "p-limit";
import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import { findOldestTransaction } from "../api/oldest.js";
import { recordSweepSql, windowLiveCountSql, windowLiveCountsSql } from "../db/sql/proofs.js";
import { oldestHeldSql } from "../db/sql/transactions.js";
import type { Span as Window } from "../time.js";
import { addMicros, asMicros, earliest, formatInstant, type Micros, type Millis, millisToMicros } from "../time.js";

type Queryable = Pick<pg.ClientBase, "query">;

export interface SweepWindow extends Window {
  api: number;
  database: number;
}

export interface SweepResult {
  /** The swept span: from the oldest row (API or database) to the watermark. */
  from: Micros | undefined;
  to: Micros | undefined;
  windows: number;
  apiRequests: number;
  differing: SweepWindow[];
  startedAt: Date;
  finishedAt: Date;
}

export interface SweepOptions {
  account: string;
  /** The watermark: the database is complete up to it, and the sweep stops there. */
  watermark: Micros | undefined;
  /** SYNC_START: nothing before it is mirrored, so nothing before it is swept. */
  start: Micros | undefined;
  spanMs: Millis;
  concurrency: number;
}

/** Fixed windows of `spanMs` from `from` to `to`, the last one shorter. */
export function sweepWindows(from: Micros, to: Micros, spanMs: Millis): Window[] {
  const span = Math.max(1, millisToMicros(spanMs));
  const windows: Window[] = [];
  for (let at = from; at < to; at = addMicros(at, span)) windows.push({ from: at, to: asMicros(Math.min(at + span, to)) });
  return windows;
}

export async function sweep(db: Queryable, client: GenerectClient, options: SweepOptions): Promise<SweepResult> {
  const startedAt = new Date();
  const requestsBefore = client.stats.requests;
  const result = (windows: number, differing: SweepWindow[], from?: Micros, to?: Micros): SweepResult => ({
    from,
    to,
    windows,
    apiRequests: client.stats.requests - requestsBefore,
    differing,
    startedAt,
    finishedAt: new Date(),
  });
  if (options.watermark === undefined) return result(0, []);
  const held = (await db.query<{ oldest: string | null }>(oldestHeldSql, [options.account])).rows[0]!.oldest;
  const apiOldest = await findOldestTransaction(client);
  const oldest = earliest(held === null ? undefined : asMicros(Number(held)), apiOldest);
  if (oldest === undefined) return result(0, []);
  const from = asMicros(Math.max(oldest, options.start ?? -Infinity));
  const to = options.watermark;
  if (from >= to) return result(0, [], from, to);

  const windows = sweepWindows(from, to, options.spanMs);
  const span = Math.max(1, millisToMicros(options.spanMs));
  const limit = pLimit(options.concurrency);
  const apiCounts = await Promise.all(
    windows.map((w) => limit(async () => (await client.listTransactions({ gte: w.from, lt: w.to, limit: 1, offset: 0 })).count)),
  );
  const { rows } = await db.query<{ w: string; n: number }>(windowLiveCountsSql, [
    options.account,
    String(from),
    String(span),
    formatInstant(from),
    formatInstant(to),
  ]);
  const held_ = new Map(rows.map((r) => [Number(r.w), r.n]));
  const differing = windows.map((w, i) => ({ ...w, api: apiCounts[i]!, database: held_.get(i) ?? 0 })).filter((w) => w.api !== w.database);
  return result(windows.length, differing, from, to);
}

/** Counts one window again, after a repair. */
export async function recount(db: Queryable, client: GenerectClient, account: string, window: Window): Promise<SweepWindow> {
  const api = (await client.listTransactions({ gte: window.from, lt: window.to, limit: 1, offset: 0 })).count;
  const { rows } = await db.query<{ n: number }>(windowLiveCountSql, [account, formatInstant(window.from), formatInstant(window.to)]);
  return { ...window, api, database: rows[0]!.n };
}

export async function recordSweep(db: Queryable, account: string, sweepResult: SweepResult, repaired: boolean): Promise<void> {
  await db.query(recordSweepSql, [
    account,
    sweepResult.startedAt,
    sweepResult.finishedAt,
    sweepResult.from === undefined ? null : formatInstant(sweepResult.from),
    sweepResult.to === undefined ? null : formatInstant(sweepResult.to),
    sweepResult.windows,
    sweepResult.apiRequests,
    JSON.stringify(sweepResult.differing.map(describeSweepWindow)),
    repaired,
  ]);
}

export function describeSweepWindow(w: SweepWindow): { from: string; to: string; api: number; database: number } {
  return { from: formatInstant(w.from), to: formatInstant(w.to), api: w.api, database: w.database };
}
