import type pg from "pg";
import { arrayLiteral } from "../db/array-literal.js";
import {
  addRollupZoneSql,
  buildZoneRollupsSql,
  clearDailyRollupsSql,
  clearRollupsSql,
  fillDailyRollupsSql,
  fillRollupsSql,
  insertComputedRollupsSql,
  movedBucketsSql,
} from "../db/sql/rollups.js";
import { addMicros, asMicros, formatInstant, type Micros } from "../time.js";
import type { Window } from "./plan.js";

// ledger_rollups is kept equal to an aggregate of transactions by recomputing, at each window's
// commit and in its transaction, every 15-minute bucket the window may have changed: the buckets
// of its own range (inserts, updates, deletion marks all lie there) and the old bucket of every row
// that moved into it from elsewhere. Recomputing rather than adding deltas keeps it exact whatever
// wrote the rows, and costs one aggregate over rows the window has just written (so in cache).
// A window that only inserted rows has nothing to recompute inside itself: its inner buckets are
// written as computed from the rows it sent (written-rollups.ts), never adjusted by a delta.

export const bucketMicros = asMicros(15 * 60 * 1_000_000);

export const floorBucket = (t: Micros) => asMicros(Math.floor(t / bucketMicros) * bucketMicros);
export const ceilBucket = (t: Micros) => asMicros(Math.ceil(t / bucketMicros) * bucketMicros);

/** Buckets a fresh window computed from the rows it sent (written-rollups.ts), which Postgres need not aggregate. */
export interface ComputedBuckets {
  /** Whole buckets: every one of them is computed, but those leftToPostgres. */
  span: Window;
  /** Buckets of the span (their start, ascending) that Postgres aggregates after all. */
  leftToPostgres: Micros[];
  /** Rows of ledger_rollups computed. */
  groups: number;
  /** $2.. of insertComputedRollupsSql. */
  parameters: unknown[];
}

/** Buckets (per account, their start in microseconds) outside the window that its writes changed. */
export class MovedBuckets {
  private readonly byAccount = new Map<string, Set<string>>();

  /** Reads, before a batch is upserted, where its rows held elsewhere sit now. */
  async record(db: pg.ClientBase, ids: string[], account: string, window: Window): Promise<void> {
    if (ids.length === 0) return;
    const { rows } = await db.query<{ account: string; bucket: string }>(movedBucketsSql, [
      arrayLiteral(ids),
      account,
      formatInstant(window.from),
      formatInstant(window.to),
    ]);
    for (const row of rows) this.add(row.account, row.bucket);
  }

  /** Rows written outside the window (a moved row found where it now lives): their buckets change too. */
  recordWritten(rows: { createdAt: Micros }[], account: string, window: Window): void {
    for (const row of rows)
      if (row.createdAt < window.from || row.createdAt >= window.to) this.add(account, String(floorBucket(row.createdAt)));
  }

  private add(account: string, bucket: string): void {
    let set = this.byAccount.get(account);
    if (!set) {
      set = new Set();
      this.byAccount.set(account, set);
    }
    set.add(bucket);
  }

  entries(): [string, Set<string>][] {
    return [...this.byAccount.entries()];
  }
}

/**
 * The created_at span of the rows a window wrote inside itself. A window that held nothing when its
 * transaction began changed only those rows (its deletion marks, too, can fall only on rows it
 * wrote), so its rollups are recomputed over that span, not over its whole range: a first run's
 * window reaches back to 1900 (first-run.ts), and every local day of that range would be cleared.
 */
export class WrittenSpan {
  #earliest: Micros | undefined;
  #latest: Micros | undefined;

  constructor(private readonly window: Window) {}

  add(rows: { createdAt: Micros }[]): void {
    for (const { createdAt } of rows) {
      if (createdAt < this.window.from || createdAt >= this.window.to) continue;
      if (this.#earliest === undefined || createdAt < this.#earliest) this.#earliest = createdAt;
      if (this.#latest === undefined || createdAt > this.#latest) this.#latest = createdAt;
    }
  }

  /** Undefined when no row was written inside the window. */
  get span(): Window | undefined {
    return this.#earliest === undefined || this.#latest === undefined
      ? undefined
      : { from: this.#earliest, to: addMicros(this.#latest, 1) };
  }
}

/**
 * Recomputes the rollups of `range` (widened to whole buckets; none: only moved buckets) and of
 * the buckets rows moved out of; returns rows deleted and written. The buckets of `range` that
 * `computed` holds are written as computed instead of aggregated.
 */
export async function refreshRollups(
  db: pg.ClientBase,
  account: string,
  range: Window | undefined,
  moved?: MovedBuckets,
  {
    utcZoneKnown = false,
    computed,
  }: {
    /** A window this run committed before registered the UTC zone: not asked again per window. */
    utcZoneKnown?: boolean;
    computed?: ComputedBuckets;
  } = {},
): Promise<number> {
  const own = range && { from: floorBucket(range.from), to: ceilBucket(range.to) };
  const ranges = new Map<string, Window[]>();
  if (own) ranges.set(account, [own]);
  for (const [owner, buckets] of moved?.entries() ?? []) {
    for (const bucket of buckets) {
      const start = asMicros(Number(bucket));
      if (owner === account && own && start >= own.from && start < own.to) continue; // already in the range: ranges stay disjoint
      let r = ranges.get(owner);
      if (!r) {
        r = [];
        ranges.set(owner, r);
      }
      r.push({ from: start, to: addMicros(start, bucketMicros) });
    }
  }
  const inserted = own && computed && computed.groups > 0 ? insertedSpan(own, computed) : undefined;
  let written = 0;
  if (!utcZoneKnown) await ensureRollupZone(db, account, "UTC");
  for (const [owner, r] of ranges) {
    const parameters = [owner, ...rangeArrays(r)];
    written += (await db.query(clearRollupsSql, parameters)).rowCount ?? 0;
    if (owner === account && own && inserted && computed) {
      const aggregated = [...withoutComputed(own, inserted, computed.leftToPostgres), ...r.slice(1)];
      if (aggregated.length > 0) written += (await db.query(fillRollupsSql, [owner, ...rangeArrays(aggregated)])).rowCount ?? 0;
      written += (await db.query(insertComputedRollupsSql, [owner, ...computed.parameters])).rowCount ?? 0;
    } else {
      written += (await db.query(fillRollupsSql, parameters)).rowCount ?? 0;
    }
    for (const sql of [clearDailyRollupsSql, fillDailyRollupsSql]) written += (await db.query(sql, parameters)).rowCount ?? 0;
  }
  return written;
}

/** Disjoint ranges of buckets as the statements' $2 (starts) and $3 (ends). */
function rangeArrays(ranges: Window[]): [string, string] {
  return [arrayLiteral(ranges.map((r) => formatInstant(r.from))), arrayLiteral(ranges.map((r) => formatInstant(r.to)))];
}

/**
 * The computed span within the window's own range. Every computed bucket lies in both: the rows
 * that made them were written inside the window, and the own range covers every such row.
 */
function insertedSpan(own: Window, computed: ComputedBuckets): Window {
  return {
    from: asMicros(Math.max(computed.span.from, own.from)),
    to: asMicros(Math.min(computed.span.to, own.to)),
  };
}

/** The window's own range less the buckets written as computed: its edges, and each run of buckets left to Postgres. */
function withoutComputed(own: Window, inserted: Window, leftToPostgres: Micros[]): Window[] {
  const pieces: Window[] = [];
  const add = (from: Micros, to: Micros) => {
    const last = pieces.at(-1);
    if (last && last.to === from) last.to = to;
    else if (from < to) pieces.push({ from, to });
  };
  add(own.from, inserted.from);
  for (const bucket of leftToPostgres) add(bucket, addMicros(bucket, bucketMicros));
  add(inserted.to, own.to);
  return pieces;
}

/**
 * Keeps the account's daily rollups in `timezone` from now on (built from its buckets when new):
 * a capture of spent credits registers its zone, so reconciliation always finds its days. Call it
 * inside a transaction: a zone registered without its days would stay wrong.
 */
export async function ensureRollupZone(db: pg.ClientBase, account: string, timezone: string): Promise<void> {
  // Registered once: the build reads every bucket of the account, so it runs only for a new zone.
  const added = await db.query(addRollupZoneSql, [account, timezone]);
  if (added.rowCount) await db.query(buildZoneRollupsSql, [account, timezone]);
}
