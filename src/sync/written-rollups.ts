// The 15-minute rollups of a window that only inserted rows, computed from the rows as sent instead
// of aggregated again by Postgres from the rows it has just written: the reading, sorting and
// grouping cost it about 1.2 µs a row of a backfill (README, "Storage v2"). Only the buckets that lie
// wholly inside the window, from 2000 on, are computed here. Postgres still aggregates the window's
// edges, which share buckets with its neighbours' rows, and every bucket holding a row whose figures
// this module cannot foresee exactly (an amount with an exponent, a description Postgres' ILIKE
// might fold differently). Anything else the window writes (an upsert, a deletion mark) makes it
// `lost`: its buckets are then all aggregated by Postgres, as before.
import type { Transaction } from "../api/schema.js";
import { arrayLiteral, nullableArrayLiteral } from "../db/array-literal.js";
import { textArray, timestamptzArray, uuidArray } from "../db/binary-array.js";
import { NumericSum } from "../db/numeric-sum.js";
import { storedNumeric } from "../db/stored-form.js";
import { asMicros, type Micros } from "../time.js";
import type { Window } from "./plan.js";
import { type ComputedBuckets, ceilBucket, floorBucket } from "./rollups.js";

/** date_bin's origin in the rollups' SQL (2000-01-01 UTC): before it, its rounding is left to it. */
const binOrigin = asMicros(946_684_800_000_000);

const zero = /^0(?:\.0+)?$/;
/** ASCII case folding only (no `u` flag), which is how every locale folds these six letters. */
const refund = /refund/i;
const nonAscii = /[\u0080-\uffff]/;

type Closing = Pick<Transaction, "createdAt" | "id" | "afterBalance">;

interface Group {
  balanceType: string;
  status: string;
  charges: NumericSum;
  chargeCount: number;
  topUps: NumericSum;
  topUpCount: number;
  refunds: NumericSum;
  refundCount: number;
  liveRows: number;
  /**
   * The closing row (the latest created_at, then the greatest id as uuids compare: lowercase hex),
   * only the fields the rollup keeps: a window holds thousands of groups, and whole rows (their raw
   * text) would stay in memory until its commit.
   */
  closing: Closing;
}

export class WrittenRollups {
  /** The buckets computed here: whole buckets inside the window, from 2000 on. */
  readonly #span: Window;
  /** Per bucket, its groups (a bucket holds a few balance types and statuses at most). */
  #buckets = new Map<Micros, Group[]>();
  #leftToPostgres = new Set<Micros>();
  #lost = false;

  constructor(window: Window) {
    const from = ceilBucket(window.from);
    this.#span = { from: asMicros(Math.max(from, binOrigin)), to: floorBucket(window.to) };
    if (!(Number.isSafeInteger(this.#span.from) && Number.isSafeInteger(this.#span.to))) this.lose();
  }

  /** Rows inserted, every one of them (a batch that met a held key is not: the window is lost). */
  inserted(rows: readonly Transaction[]): void {
    if (this.#lost) return;
    for (const row of rows) {
      const at = row.createdAt;
      if (!(at >= this.#span.from && at < this.#span.to)) continue;
      if (!Number.isSafeInteger(at)) {
        this.lose();
        return;
      }
      const bucket = floorBucket(at);
      const kind = rollupKind(row);
      if (kind === undefined) {
        this.#leftToPostgres.add(bucket);
        continue;
      }
      let groups = this.#buckets.get(bucket);
      if (!groups) {
        groups = [];
        this.#buckets.set(bucket, groups);
      }
      let group = groups.find((g) => g.balanceType === row.balanceType && g.status === row.status);
      if (!group) {
        group = {
          balanceType: row.balanceType,
          status: row.status,
          charges: new NumericSum(),
          chargeCount: 0,
          topUps: new NumericSum(),
          topUpCount: 0,
          refunds: new NumericSum(),
          refundCount: 0,
          liveRows: 0,
          closing: closingFields(row),
        };
        groups.push(group);
      } else if (closesLater(row, group.closing)) {
        group.closing = closingFields(row);
      }
      group.liveRows++;
      if (kind.sum === "charges") group.chargeCount++;
      else if (kind.sum === "topUps") group.topUpCount++;
      else if (kind.sum === "refunds") group.refundCount++;
      if (kind.sum) group[kind.sum].add(kind.amount);
    }
  }

  /** The window wrote rows some other way: Postgres aggregates all of its buckets. */
  lose(): void {
    this.#lost = true;
    this.#buckets = new Map();
  }

  /** The buckets computed, for refreshRollups; undefined when lost or none were. */
  get computed(): ComputedBuckets | undefined {
    if (this.#lost || this.#span.from >= this.#span.to) return undefined;
    const rows: { bucket: Micros; group: Group }[] = [];
    for (const [bucket, groups] of this.#buckets)
      if (!this.#leftToPostgres.has(bucket)) for (const group of groups) rows.push({ bucket, group });
    const counts = (pick: (g: Group) => number) => `{${rows.map((r) => pick(r.group)).join(",")}}`;
    return {
      span: this.#span,
      leftToPostgres: [...this.#leftToPostgres].sort((a, b) => a - b),
      groups: rows.length,
      parameters: [
        timestamptzArray(rows.map((r) => r.bucket)),
        textArray(rows.map((r) => r.group.balanceType)),
        textArray(rows.map((r) => r.group.status)),
        arrayLiteral(rows.map((r) => r.group.charges.text)),
        counts((g) => g.chargeCount),
        arrayLiteral(rows.map((r) => r.group.topUps.text)),
        counts((g) => g.topUpCount),
        arrayLiteral(rows.map((r) => r.group.refunds.text)),
        counts((g) => g.refundCount),
        counts((g) => g.liveRows),
        timestamptzArray(rows.map((r) => r.group.closing.createdAt)),
        uuidArray(rows.map((r) => r.group.closing.id)),
        // The balance's literal as sent: Postgres reads it as it read the row's, exponent or not.
        nullableArrayLiteral(rows.map((r) => r.group.closing.afterBalance)),
      ],
    };
  }
}

/** The fields of a closing row that the rollup stores. */
function closingFields({ createdAt, id, afterBalance }: Transaction): Closing {
  return { createdAt, id, afterBalance };
}

/** Whether `row` closes its group after `closing`: a later created_at, or the same and a greater uuid. */
function closesLater(row: Transaction, closing: Closing): boolean {
  if (row.createdAt !== closing.createdAt) return row.createdAt > closing.createdAt;
  return row.id.toLowerCase() > closing.id.toLowerCase();
}

/**
 * Which sum a live row adds to (rollupKind in src/db/sql/rollups.ts) and its amount as stored; no
 * sum for a zero amount; undefined when not foreseeable here.
 */
function rollupKind(row: Transaction): { sum?: "charges" | "topUps" | "refunds"; amount: string } | undefined {
  const amount = storedNumeric(row.amount);
  if (amount === undefined) return undefined;
  if (amount.charCodeAt(0) === 45) return { sum: "charges", amount }; // "-": storedNumeric drops a negative zero's sign
  if (zero.test(amount)) return { amount };
  const description = row.description;
  if (description === null) return { sum: "topUps", amount };
  if (refund.test(description)) return { sum: "refunds", amount };
  // ILIKE folds case by the database's locale: a letter outside ASCII might fold onto one of "refund".
  if (nonAscii.test(description)) return undefined;
  return { sum: "topUps", amount };
}
