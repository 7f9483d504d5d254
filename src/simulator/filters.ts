// Turns the transactions endpoint's query string into filters. Mirrors django-filter as the API
// exposes it: `field` and `field__exact` are equality, created_at/amount/after_balance also take
// gt/gte/lt/lte/range, status/balance_type take exact only. Anything the server cannot read (bad
// date, non-numeric amount, malformed range, unknown lookup) is dropped without an error, because
// the real API silently serves unfiltered rows in that case and the simulator must reproduce it.
// A row without after_balance (SQL NULL) matches no after_balance filter, as in SQL.

import { tryParseUnits, unitsOf } from "./decimal.js";
import { parseNaive } from "./time.js";
import type { SimTransaction } from "./types.js";

type Lookup = "exact" | "gt" | "gte" | "lt" | "lte" | "range";

/** Inclusive/exclusive bounds on created_at, answered by binary search instead of a scan. */
export interface CreatedAtWindow {
  min?: string;
  minInclusive: boolean;
  max?: string;
  maxInclusive: boolean;
}

/** A row as the server's filters see it: after_balance null when the ledger holds none (ledger.setOdd). */
export type FilteredRow = Omit<SimTransaction, "after_balance"> & { after_balance: string | null };

export interface ParsedFilters {
  createdAt: CreatedAtWindow;
  /** Filters on other fields, checked row by row inside the created_at window. */
  predicates: ((row: FilteredRow) => boolean)[];
  /** Canonical description of the applied filters; equal keys select equal rows (cache key). */
  key: string;
}

const RANGE_FIELDS = new Set(["created_at", "amount", "after_balance"]);
const EXACT_FIELDS = new Set(["status", "balance_type"]);
const LOOKUPS = new Set<Lookup>(["exact", "gt", "gte", "lt", "lte", "range"]);

export function parseFilters(params: URLSearchParams): ParsedFilters {
  const createdAt: CreatedAtWindow = { minInclusive: true, maxInclusive: true };
  const predicates: ParsedFilters["predicates"] = [];
  const applied: string[] = [];

  for (const name of new Set(params.keys())) {
    const raw = params.getAll(name).at(-1) ?? ""; // Django's QueryDict reads the last value
    if (raw === "") continue; // django-filter skips empty values
    const [field = "", lookupText = "exact", extra] = name.split("__");
    if (extra !== undefined || !LOOKUPS.has(lookupText as Lookup)) continue;
    const lookup = lookupText as Lookup;

    if (EXACT_FIELDS.has(field)) {
      if (lookup !== "exact") continue;
      const key = field as "status" | "balance_type";
      predicates.push((row) => row[key] === raw);
      applied.push(`${field}=${raw}`);
    } else if (RANGE_FIELDS.has(field)) {
      const values = lookup === "range" ? raw.split(",") : [raw];
      if (values.length !== (lookup === "range" ? 2 : 1)) continue;
      if (field === "created_at") {
        const parsed = values.map(parseNaive);
        if (parsed.some((v) => v === undefined)) continue;
        narrow(createdAt, lookup, parsed as string[]);
        applied.push(`created_at__${lookup}=${parsed.join(",")}`);
      } else {
        const parsed = values.map(tryParseUnits);
        if (parsed.some((v) => v === undefined)) continue;
        predicates.push(numericPredicate(field as "amount" | "after_balance", lookup, parsed as bigint[]));
        applied.push(`${field}__${lookup}=${parsed.join(",")}`);
      }
    }
  }
  return { createdAt, predicates, key: applied.sort().join("&") };
}

function narrow(w: CreatedAtWindow, lookup: Lookup, [a = "", b = ""]: string[]): void {
  const raiseMin = (v: string, inclusive: boolean) => {
    if (w.min === undefined || v > w.min || (v === w.min && !inclusive)) {
      w.min = v;
      w.minInclusive = inclusive;
    }
  };
  const lowerMax = (v: string, inclusive: boolean) => {
    if (w.max === undefined || v < w.max || (v === w.max && !inclusive)) {
      w.max = v;
      w.maxInclusive = inclusive;
    }
  };
  switch (lookup) {
    case "exact":
      raiseMin(a, true);
      lowerMax(a, true);
      break;
    case "gt":
      raiseMin(a, false);
      break;
    case "gte":
      raiseMin(a, true);
      break;
    case "lt":
      lowerMax(a, false);
      break;
    case "lte":
      lowerMax(a, true);
      break;
    case "range":
      raiseMin(a, true);
      lowerMax(b, true);
      break;
  }
}

function numericPredicate(field: "amount" | "after_balance", lookup: Lookup, [a = 0n, b = 0n]: bigint[]) {
  const compare = (test: (v: number | bigint) => boolean) => (row: FilteredRow) => {
    const text = row[field];
    return text !== null && test(unitsOf(text)); // NULL matches no comparison
  };
  switch (lookup) {
    case "exact":
      // biome-ignore lint/suspicious/noDoubleEquals: == compares a Number and a BigInt exactly; === is always false between them
      return compare((v) => v == a);
    case "gt":
      return compare((v) => v > a);
    case "gte":
      return compare((v) => v >= a);
    case "lt":
      return compare((v) => v < a);
    case "lte":
      return compare((v) => v <= a);
    case "range":
      return compare((v) => v >= a && v <= b);
  }
}
