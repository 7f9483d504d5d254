import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Ledger, type SimulatorHandle, startSimulator } from "../../src/simulator/index.js";
import { get, TOKEN, txPath, withSimulator } from "./support.js";

// 250 rows one minute apart, plus 5 rows sharing one created_at to exercise the id tie-break.
function paginationLedger(): Ledger {
  const ledger = new Ledger([], { seed: 5 });
  const start = Date.parse("2025-02-01T00:00:00Z");
  for (let i = 0; i < 250; i++) ledger.add({ created_at: new Date(start + i * 60_000), amount: "-0.5" });
  for (let i = 0; i < 5; i++) ledger.add({ created_at: "2025-02-01T01:00:00.123456", amount: "-1" });
  return ledger;
}

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ token: TOKEN, ledger: paginationLedger() });
});
afterAll(() => sim.close());

test("default limit is 100 and the envelope reports count, limit, max_limit, offset", async () => {
  const res = await get(sim, txPath());
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  expect(res.json).toMatchObject({ count: 255, limit: 100, max_limit: 100, offset: 0 });
  expect(res.json.results).toHaveLength(100);
});

test("walking by offset returns every row once, newest first, ties by id descending", async () => {
  const seen: { id: string; created_at: string }[] = [];
  for (let offset = 0; ; offset += 7) {
    const res = await get(sim, txPath({ limit: "7", offset: String(offset) }));
    expect(res.json.count).toBe(255);
    expect(res.json.offset).toBe(offset);
    seen.push(...res.json.results);
    if (res.json.next === null) break;
  }
  expect(seen).toHaveLength(255);
  expect(new Set(seen.map((r) => r.id)).size).toBe(255);
  for (let i = 1; i < seen.length; i++) {
    const a = seen[i - 1]!,
      b = seen[i]!;
    expect(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id)).toBe(true);
  }
  // The order is stable: asking again gives the same sequence.
  const again = await get(sim, txPath({ limit: "100", offset: "100" }));
  expect(again.json.results.map((r: { id: string }) => r.id)).toEqual(seen.slice(100, 200).map((r) => r.id));
});

test("last page is short; offset past the end gives an empty page", async () => {
  const last = await get(sim, txPath({ offset: "200" }));
  expect(last.json.results).toHaveLength(55);
  expect(last.json.next).toBeNull();
  const past = await get(sim, txPath({ offset: "1000" }));
  expect(past.json).toMatchObject({ count: 255, offset: 1000, next: null, results: [] });
});

test("limit above max_limit is clamped by default", async () => {
  const res = await get(sim, txPath({ limit: "500" }));
  expect(res.status).toBe(200);
  expect(res.json.limit).toBe(100);
  expect(res.json.results).toHaveLength(100);
});

test("limitOverMax: reject answers 400", async () => {
  await withSimulator({ ledger: paginationLedger(), limitOverMax: "reject" }, async (strict) => {
    const res = await get(strict, txPath({ limit: "101" }));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: "error", status_code: 400, detail: expect.any(String) });
    expect((await get(strict, txPath({ limit: "100" }))).status).toBe(200);
  });
});

test("maxLimit option changes max_limit", async () => {
  await withSimulator({ ledger: paginationLedger(), maxLimit: 20 }, async (small) => {
    const res = await get(small, txPath({ limit: "50" }));
    expect(res.json).toMatchObject({ limit: 20, max_limit: 20 });
    expect(res.json.results).toHaveLength(20);
  });
});

test.each([["0"], ["-5"], ["abc"], [""]])("limit=%s falls back to the default", async (limit) => {
  const res = await get(sim, txPath({ limit }));
  expect(res.json.limit).toBe(100);
});

test.each([["-5"], ["abc"]])("offset=%s is read as 0", async (offset) => {
  const res = await get(sim, txPath({ offset }));
  expect(res.json.offset).toBe(0);
  expect(res.json.previous).toBeNull();
});

describe("next/previous links point at localhost:8000 like the real API", () => {
  test("first, middle and last page", async () => {
    const first = await get(sim, txPath({ limit: "100" }));
    expect(first.json.previous).toBeNull();
    expect(first.json.next).toBe("http://localhost:8000/api/auth/transactions/?limit=100&offset=100");

    const middle = await get(sim, txPath({ status: "success", limit: "100", offset: "100" }));
    expect(middle.json.next).toBe("http://localhost:8000/api/auth/transactions/?limit=100&offset=200&status=success");
    expect(middle.json.previous).toBe("http://localhost:8000/api/auth/transactions/?limit=100&status=success");

    const third = await get(sim, txPath({ limit: "50", offset: "130" }));
    expect(third.json.previous).toBe("http://localhost:8000/api/auth/transactions/?limit=50&offset=80");
  });

  test("reproduces the published example exactly", async () => {
    // Eight rows match the example's filters; asking from offset 5 yields its previous link.
    const ledger = new Ledger();
    for (let i = 0; i < 8; i++)
      ledger.add({ created_at: `2025-01-0${i + 1}T12:00:00.000000`, amount: "-10", balance_type: "leads_by_icp" });
    ledger.add({ created_at: "2025-01-07T13:00:00", amount: "-1" }); // filtered out by amount
    await withSimulator({ ledger }, async (s) => {
      const res = await get(s, txPath("amount__lte=-5&created_at__range=2025-01-01T00:30:00,2025-12-31&offset=5"));
      expect(res.json).toMatchObject({ count: 8, next: null, limit: 100, max_limit: 100, offset: 5 });
      expect(res.json.previous).toBe(
        "http://localhost:8000/api/auth/transactions/?amount__lte=-5&created_at__range=2025-01-01T00%3A30%3A00%2C2025-12-31&limit=100",
      );
      expect(res.json.results).toHaveLength(3);
    });
  });
});
