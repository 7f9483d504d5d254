// In-memory transaction store, kept sorted newest first (created_at desc, then id desc: the API's
// order, with a stable tie-break). Sized for a million rows: created_at filters are binary searches
// on the sorted array, other filters scan only the created_at window, and scan results are cached
// until the ledger next changes, so walking pages of one query does not rescan per page.
//
// Stored rows are frozen: callers get the stored objects and must change them through update().
// Every money value is canonical decimal text and every timestamp canonical naive-UTC text, so
// string comparison of created_at is instant comparison.

import { defaultDescription } from "./catalog.js";
import { addDecimals, normalizeDecimal } from "./decimal.js";
import { type BadRowKind, breakRow } from "./faults.js";
import { type CreatedAtWindow, type ParsedFilters, parseFilters } from "./filters.js";
import { freeze, keys } from "./intrinsics.js";
import { objectJson, rowForTamper, rowJson } from "./json.js";
import { mulberry32, type Rng, uuidFrom } from "./prng.js";
import { computeSpentCredits, type SpentCreditsParams, type SpentCreditsResult } from "./spent-credits.js";
import { formatDate, nowNaive, parseNaive } from "./time.js";
import { type SimTransaction, TX_STATUSES } from "./types.js";

export type TransactionInput = Partial<Omit<SimTransaction, "created_at" | "amount" | "after_balance">> & {
  created_at?: string | Date;
  amount?: string | number;
  after_balance?: string | number;
};

export interface QueryResult {
  count: number;
  /** Rows [offset, offset + limit) of the match, newest first. Read it before mutating the ledger. */
  slice(offset: number, limit: number): SimTransaction[];
}

const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
const CANONICAL_DECIMAL = /^(?!-0$)-?(?:0|[1-9]\d*)(?:\.\d{0,5}[1-9])?$/;
const MAX_CACHED_QUERIES = 8;

/** Newest first: positive when a sorts after b. */
function compareRows(a: SimTransaction, b: SimTransaction): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
}

function naive(value: string | Date, field: string): string {
  if (value instanceof Date) return formatDate(value);
  if (CANONICAL_TIME.test(value)) return value;
  const parsed = parseNaive(value);
  if (parsed === undefined) throw new Error(`${field}: not a datetime: ${JSON.stringify(value)}`);
  return parsed;
}

function decimal(value: string | number): string {
  return typeof value === "string" && CANONICAL_DECIMAL.test(value) ? value : normalizeDecimal(value);
}

function checkStatus(status: string): void {
  if (!(TX_STATUSES as readonly string[]).includes(status)) throw new Error(`unknown status ${JSON.stringify(status)}`);
}

const ROW_KEYS = ["id", "created_at", "updated_at", "status", "balance_type", "amount", "description", "after_balance"];

/** Validated, canonical, frozen copy of a complete row. */
function canonicalRow(row: SimTransaction): SimTransaction {
  checkStatus(row.status);
  return freeze({
    id: row.id,
    created_at: naive(row.created_at, "created_at"),
    updated_at: naive(row.updated_at, "updated_at"),
    status: row.status,
    balance_type: row.balance_type,
    amount: decimal(row.amount),
    description: row.description,
    after_balance: decimal(row.after_balance),
  });
}

/**
 * The row itself, frozen, when it is already canonical (seeded rows are): copying a million rows
 * would double the ledger's memory while the caller still holds the originals. Anything else is
 * copied into canonical form.
 */
function adoptRow(row: SimTransaction): SimTransaction {
  const canonical =
    typeof row.id === "string" &&
    typeof row.balance_type === "string" &&
    typeof row.description === "string" &&
    typeof row.created_at === "string" &&
    CANONICAL_TIME.test(row.created_at) &&
    typeof row.updated_at === "string" &&
    CANONICAL_TIME.test(row.updated_at) &&
    typeof row.amount === "string" &&
    CANONICAL_DECIMAL.test(row.amount) &&
    typeof row.after_balance === "string" &&
    CANONICAL_DECIMAL.test(row.after_balance) &&
    (TX_STATUSES as readonly string[]).includes(row.status) &&
    keys(row).length === ROW_KEYS.length;
  return canonical ? freeze(row) : canonicalRow(row);
}

export class Ledger {
  #rows: SimTransaction[];
  #byId = new Map<string, SimTransaction>();
  #typeCounts = new Map<string, number>();
  #rng: Rng;
  #version = 0;
  #odd = new Map<string, BadRowKind>();
  /** Each updated row as it was before its last update (what a replica behind on edits serves). */
  #beforeLastUpdate = new Map<string, SimTransaction>();
  #scans = new Map<string, { version: number; rows: SimTransaction[] }>();
  /**
   * The ledger's clock, relative to the real one: rows add() creates without a created_at get
   * real now + clockOffsetMs, and update() stamps updated_at the same way. A positive value is an
   * API whose clock runs ahead of the job's. (The simulator's `faults.clockOffsetMs` sets it.)
   */
  clockOffsetMs = 0;

  /**
   * Takes the rows over: rows already in canonical form are frozen in place rather than copied, so
   * change them through update() afterwards. `seed` seeds the generator of ids for add().
   */
  constructor(rows: SimTransaction[] = [], opts: { seed?: number } = {}) {
    this.#rng = mulberry32(opts.seed ?? 0x1ed9e5);
    this.#rows = rows.map(adoptRow);
    for (const row of this.#rows) {
      if (this.#byId.has(row.id)) throw new Error(`duplicate id ${row.id}`);
      this.#byId.set(row.id, row);
      this.#countType(row.balance_type, 1);
    }
    // Generated ledgers arrive already ordered; checking is O(n) where sorting a million is not free.
    if (!this.#isSorted()) {
      this.#rows.reverse();
      if (!this.#isSorted()) this.#rows.sort(compareRows);
    }
  }

  get size(): number {
    return this.#rows.length;
  }

  /** Every row, newest first (a new array; the rows themselves are the frozen stored objects). */
  all(): SimTransaction[] {
    return this.#rows.slice();
  }

  get(id: string): SimTransaction | undefined {
    return this.#byId.get(id);
  }

  /**
   * Adds a row, filling what is missing. after_balance defaults to the running balance of the same
   * balance_type: the newest existing row of that type created at or before this one, plus amount.
   * Later rows' after_balance is not rewritten (the real ledger never rewrites history either).
   */
  add(input: TransactionInput = {}): SimTransaction {
    const created_at = input.created_at === undefined ? nowNaive(this.clockOffsetMs) : naive(input.created_at, "created_at");
    const balance_type = input.balance_type ?? "platform";
    const amount = input.amount === undefined ? "-1" : decimal(input.amount);
    let id = input.id;
    if (id === undefined) {
      do id = uuidFrom(this.#rng);
      while (this.#byId.has(id));
    } else if (this.#byId.has(id)) {
      throw new Error(`duplicate id ${id}`);
    }
    const row = canonicalRow({
      id,
      created_at,
      updated_at: input.updated_at ?? created_at,
      status: input.status ?? "success",
      balance_type,
      amount,
      description: input.description ?? defaultDescription(balance_type),
      after_balance:
        input.after_balance === undefined
          ? addDecimals(this.#balanceBefore(balance_type, created_at), amount)
          : decimal(input.after_balance),
    });
    this.#insert(row);
    return row;
  }

  /** Changes a row; updated_at becomes now unless the patch sets it. Throws for an unknown id. */
  update(id: string, patch: Partial<Omit<SimTransaction, "id">>): SimTransaction {
    const old = this.#byId.get(id);
    if (!old) throw new Error(`unknown transaction id ${id}`);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const row = canonicalRow({ ...old, updated_at: nowNaive(this.clockOffsetMs), ...defined, id } as SimTransaction);
    this.#detach(old);
    this.#insert(row);
    this.#beforeLastUpdate.set(id, old);
    return row;
  }

  remove(id: string): boolean {
    const old = this.#byId.get(id);
    if (!old) return false;
    this.#detach(old);
    this.#odd.delete(id);
    this.#beforeLastUpdate.delete(id);
    this.#version++;
    return true;
  }

  /**
   * From now on the API serves this row odd, `kind`'s way (see BAD_ROW_KINDS), until called again
   * without a kind. This is the ledger's truth, not a fault: resetFaults keeps it.
   */
  setOdd(id: string, kind?: BadRowKind): void {
    if (!this.#byId.has(id)) throw new Error(`unknown transaction id ${id}`);
    if (kind) this.#odd.set(id, kind);
    else this.#odd.delete(id);
    this.#version++; // a row without after_balance no longer matches a filter on it
  }

  /** How the API serves this row, if odd. */
  oddKind(id: string): BadRowKind | undefined {
    return this.#odd.get(id);
  }

  get oddRows(): number {
    return this.#odd.size;
  }

  /**
   * The row as a replica behind on edits serves it: as it was before its last update, unless that
   * update moved it (the replica's page would then hold other rows than the ledger's).
   */
  behindOnEdits(row: SimTransaction): SimTransaction {
    const before = this.#beforeLastUpdate.get(row.id);
    return before !== undefined && before.created_at === row.created_at ? before : row;
  }

  /** The row's JSON text as the API serves it. */
  served(row: SimTransaction): string {
    const kind = this.#odd.get(row.id);
    return kind ? objectJson(breakRow(rowForTamper(row), kind)) : rowJson(row);
  }

  /** Rows matching the endpoint's filters (see filters.ts); unreadable filter values are ignored. */
  query(params: URLSearchParams, opts: { ignoreFilters?: boolean } = {}): QueryResult {
    const filters: ParsedFilters = opts.ignoreFilters
      ? { createdAt: { minInclusive: true, maxInclusive: true }, predicates: [], key: "" }
      : parseFilters(params);
    const [lo, hi] = this.#window(filters.createdAt);
    if (filters.predicates.length === 0) {
      const rows = this.#rows;
      const count = hi - lo;
      return { count, slice: (offset, limit) => rows.slice(lo + Math.min(offset, count), lo + Math.min(offset + limit, count)) };
    }
    const matched = this.#scan(filters, lo, hi);
    return { count: matched.length, slice: (offset, limit) => matched.slice(offset, offset + limit) };
  }

  /**
   * What users/me reports: per balance type the latest row's after_balance (the running balance),
   * "0" for a type without rows, and the platform credits held by pending charges (positive).
   */
  balances(types: readonly string[]): { balances: Record<string, string>; blockedPlatform: string } {
    const balances: Record<string, string> = Object.fromEntries(types.map((t) => [t, "0"]));
    const seen = new Set<string>();
    let blocked = "0";
    for (const row of this.#rows) {
      if (!seen.has(row.balance_type)) {
        seen.add(row.balance_type);
        balances[row.balance_type] = row.after_balance;
      }
      if (row.status === "pending" && row.balance_type === "platform" && row.amount.startsWith("-"))
        blocked = addDecimals(blocked, row.amount.slice(1));
    }
    return { balances, blockedPlatform: blocked };
  }

  spentCredits(params: SpentCreditsParams): SpentCreditsResult {
    return computeSpentCredits((min, max) => {
      const [lo, hi] = this.#window({ min, minInclusive: true, max, maxInclusive: true });
      return this.#rows.slice(lo, hi);
    }, params);
  }

  #scan(filters: ParsedFilters, lo: number, hi: number): SimTransaction[] {
    const cached = this.#scans.get(filters.key);
    if (cached && cached.version === this.#version) return cached.rows;
    const rows: SimTransaction[] = [];
    for (let i = lo; i < hi; i++) {
      const row = this.#rows[i]!;
      // The API's data holds no after_balance for a row it serves without one: no filter on it matches.
      const filtered = this.#odd.get(row.id) === "null-after-balance" ? { ...row, after_balance: null } : row;
      if (filters.predicates.every((p) => p(filtered))) rows.push(row);
    }
    if (this.#scans.size >= MAX_CACHED_QUERIES) this.#scans.clear();
    this.#scans.set(filters.key, { version: this.#version, rows });
    return rows;
  }

  /** [lo, hi) indices of the rows whose created_at lies in the window. */
  #window(w: CreatedAtWindow): [number, number] {
    const { max, min } = w;
    const lo = max === undefined ? 0 : this.#firstIndex((r) => (w.maxInclusive ? r.created_at <= max : r.created_at < max));
    const hi = min === undefined ? this.#rows.length : this.#firstIndex((r) => (w.minInclusive ? r.created_at < min : r.created_at <= min));
    return [lo, Math.max(lo, hi)];
  }

  /** First index whose row satisfies `pred`, which must be false…false true…true along the array. */
  #firstIndex(pred: (row: SimTransaction) => boolean): number {
    let lo = 0,
      hi = this.#rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.#rows[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #balanceBefore(balanceType: string, createdAt: string): string {
    if (!this.#typeCounts.get(balanceType)) return "0";
    for (let i = this.#firstIndex((r) => r.created_at <= createdAt); i < this.#rows.length; i++) {
      const row = this.#rows[i]!;
      if (row.balance_type === balanceType) return row.after_balance;
    }
    return "0";
  }

  #insert(row: SimTransaction): void {
    this.#rows.splice(
      this.#firstIndex((r) => compareRows(r, row) > 0),
      0,
      row,
    );
    this.#byId.set(row.id, row);
    this.#countType(row.balance_type, 1);
    this.#version++;
  }

  #detach(row: SimTransaction): void {
    this.#rows.splice(
      this.#firstIndex((r) => compareRows(r, row) >= 0),
      1,
    );
    this.#byId.delete(row.id);
    this.#countType(row.balance_type, -1);
  }

  #countType(balanceType: string, delta: number): void {
    this.#typeCounts.set(balanceType, (this.#typeCounts.get(balanceType) ?? 0) + delta);
  }

  #isSorted(): boolean {
    for (let i = 1; i < this.#rows.length; i++) if (compareRows(this.#rows[i - 1]!, this.#rows[i]!) > 0) return false;
    return true;
  }
}
