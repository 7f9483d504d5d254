import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Ledger, type SimTransaction, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { startFixtureSimulator } from "./filters-fixture.js";
import { get, txPath } from "./support.js";

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startFixtureSimulator();
});
afterAll(() => sim.close());

/** ids of the rows the simulator returns (as the suffix digit used in the fixture), in order. */
async function pick(query: string): Promise<number[]> {
  const res = await get(sim, txPath(query));
  expect(res.status).toBe(200);
  expect(res.json.count).toBe(res.json.results.length);
  return res.json.results.map((r: { id: string }) => Number(r.id.slice(-1)));
}

describe("created_at filters", () => {
  test.each([
    ["created_at=2025-01-07", [4]],
    ["created_at__exact=2025-01-07", [4]],
    ["created_at__exact=2025-01-07T13:01:15.397996", [5]],
    ["created_at__exact=2025-01-06T12:30:00.5", [3]], // fewer fraction digits
    ["created_at__exact=2025-01-06T00:00:00", [2]], // no fraction
    ["created_at__gt=2025-01-07", [6, 5]], // date-only = midnight UTC, so the midnight row is not > it
    ["created_at__gte=2025-01-07", [6, 5, 4]],
    ["created_at__lt=2025-01-06", [1]],
    ["created_at__lte=2025-01-06", [2, 1]],
    ["created_at__range=2025-01-06,2025-01-07", [4, 3, 2]], // inclusive at both midnights
    ["created_at__gt=2025-01-07T13:01:15.397996", [6]],
    ["created_at__gte=2025-01-07T13:01:15.397996", [6, 5]],
    ["created_at__lt=2025-01-07T13:01:15.397996", [4, 3, 2, 1]],
    ["created_at__lte=2025-01-07T13:01:15.397996", [5, 4, 3, 2, 1]],
    ["created_at__lt=2025-01-07T13:01:15.397997", [5, 4, 3, 2, 1]], // microsecond precision
    ["created_at__range=2025-01-06T12:30:00.500000,2025-01-07T13:01:15.397996", [5, 4, 3]],
    ["created_at__lte=2025-01-08T23:59:59.999998", [5, 4, 3, 2, 1]],
    ["created_at__range=2025-01-08,2025-01-06", []], // reversed range is empty, not an error
    ["created_at__gte=2025-01-06&created_at__lt=2025-01-08", [5, 4, 3, 2]],
    ["created_at__gte=2025-01-07T14:01:15%2B01:00", [6, 5]], // explicit offset is converted to UTC
  ])("%s", async (query, expected) => {
    expect(await pick(query)).toEqual(expected);
  });
});

describe("amount and after_balance filters", () => {
  test.each([
    ["amount=-10", [5, 1]],
    ["amount__exact=-10.00", [5, 1]],
    ["amount__gt=-0.5", [3, 2]],
    ["amount__gte=-0.5", [6, 3, 2]],
    ["amount__lt=-2.25", [5, 1]],
    ["amount__lte=-2.25", [5, 4, 1]],
    ["amount__range=-2.25,-0.01", [6, 4, 2]],
    ["amount__range=-0.5,500", [6, 3, 2]],
    ["after_balance=499.99", [3]],
    ["after_balance__exact=499.99", [3]],
    ["after_balance__gt=-2.25", [6, 3, 2]],
    ["after_balance__gte=-2.25", [6, 4, 3, 2]],
    ["after_balance__lt=-10", [5]],
    ["after_balance__lte=-10", [5, 1]],
    ["after_balance__range=-10,-0.01", [4, 2, 1]],
  ])("%s", async (query, expected) => {
    expect(await pick(query)).toEqual(expected);
  });
});

describe("status and balance_type filters (exact only)", () => {
  test.each([
    ["status=pending", [2]],
    ["status__exact=error", [4]],
    ["status=success", [6, 5, 3, 1]],
    ["status=bogus", []],
    ["balance_type=platform", [6, 3, 2]],
    ["balance_type__exact=leads_by_icp", [5, 1]],
  ])("%s", async (query, expected) => {
    expect(await pick(query)).toEqual(expected);
  });
});

test("filters combine with AND", async () => {
  expect(await pick("created_at__gte=2025-01-06&amount__lt=0&status=success")).toEqual([6, 5]);
  expect(await pick("created_at__gte=2025-01-06&amount__lt=0&status=success&balance_type=platform")).toEqual([6]);
  expect(await pick("created_at__range=2025-01-05,2025-01-08&after_balance__lt=0&amount__lte=-2.25")).toEqual([5, 4, 1]);
});

// A row the API serves without after_balance (ledger.setOdd) holds none: as in SQL, no filter on
// after_balance matches it, not a range and not its complement; filters on other fields still do.
test("a row served without after_balance matches no after_balance filter", () => {
  const ledger = new Ledger(
    seedTransactions({ seed: 12, rows: 50, from: new Date("2024-03-01T00:00:00Z"), to: new Date("2024-03-02T00:00:00Z") }),
  );
  const row = ledger.all()[20]!;
  const ids = (query: string) => {
    const result = ledger.query(new URLSearchParams(query));
    return result.slice(0, result.count).map((r) => r.id);
  };
  const queries = [
    `after_balance=${row.after_balance}`,
    `after_balance__lt=${row.after_balance}`,
    `after_balance__gte=${row.after_balance}`,
  ];
  expect(queries.map((q) => ids(q).includes(row.id))).toEqual([true, false, true]);
  ledger.setOdd(row.id, "null-after-balance");
  expect(queries.map((q) => ids(q).includes(row.id))).toEqual([false, false, false]);
  expect(ids(`amount=${row.amount}`)).toContain(row.id);
  ledger.setOdd(row.id);
  expect(queries.map((q) => ids(q).includes(row.id))).toEqual([true, false, true]);
});

describe("a value the server cannot read is silently ignored (200, unfiltered)", () => {
  test.each([
    "created_at__gte=2025-13-01",
    "created_at__gte=2025-02-30",
    "created_at=yesterday",
    "created_at__lt=2025-01-07T25:00:00",
    "created_at__range=2025-01-06",
    "created_at__range=2025-01-06,nope",
    "amount__lt=abc",
    "amount__range=1,2,3",
    "after_balance__gte=1e3",
    "amount=",
    "status__gt=pending", // status takes exact only
    "created_at__foo=2025-01-01",
    "updated_at__gte=2030-01-01", // not filterable
    "ordering=created_at",
  ])("%s", async (query) => {
    expect(await pick(query)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  test("only the unreadable filter is dropped, the others still apply", async () => {
    expect(await pick("amount__lt=abc&status=pending")).toEqual([2]);
  });
});

describe("Ledger.query agrees with a naive reference on a seeded ledger", () => {
  const rows = seedTransactions({ seed: 11, rows: 3000, from: new Date("2024-03-01T00:00:00Z"), to: new Date("2024-03-20T00:00:00Z") });
  const ledger = new Ledger(rows);
  const all = ledger.all();
  const sample = (i: number) => all[Math.floor(all.length * i)]!;
  const num = (row: SimTransaction, f: "amount" | "after_balance") => Number(row[f]);
  const cmp = {
    exact: (v: number | string, a: number | string) => v === a,
    gt: (v: number | string, a: number | string) => v > a,
    gte: (v: number | string, a: number | string) => v >= a,
    lt: (v: number | string, a: number | string) => v < a,
    lte: (v: number | string, a: number | string) => v <= a,
  };

  for (const field of ["created_at", "amount", "after_balance"] as const) {
    for (const lookup of ["exact", "gt", "gte", "lt", "lte", "range"] as const) {
      test(`${field}__${lookup}`, () => {
        const a = sample(0.7)[field],
          b = sample(0.3)[field];
        const [lo, hi] = field === "created_at" ? [a, b] : Number(a) <= Number(b) ? [a, b] : [b, a];
        const value = lookup === "range" ? `${lo},${hi}` : a;
        const of = (r: SimTransaction): number | string => (field === "created_at" ? r.created_at : num(r, field));
        const bound = (s: string): number | string => (field === "created_at" ? s : Number(s));
        const expected = all.filter((r) =>
          lookup === "range" ? of(r) >= bound(lo) && of(r) <= bound(hi) : cmp[lookup](of(r), bound(value)),
        );
        const result = ledger.query(new URLSearchParams({ [`${field}__${lookup}`]: value }));
        expect(result.count).toBe(expected.length);
        expect(result.count).toBeGreaterThan(0);
        expect(result.slice(0, result.count).map((r) => r.id)).toEqual(expected.map((r) => r.id));
      });
    }
  }

  test("date-only created_at values mean midnight UTC", () => {
    const expected = all.filter((r) => r.created_at >= "2024-03-10T00:00:00.000000" && r.created_at <= "2024-03-12T00:00:00.000000");
    const result = ledger.query(new URLSearchParams("created_at__range=2024-03-10,2024-03-12"));
    expect(result.count).toBe(expected.length);
  });

  test("ignoreFilters serves every row", () => {
    expect(ledger.query(new URLSearchParams("status=pending"), { ignoreFilters: true }).count).toBe(rows.length);
  });
});
