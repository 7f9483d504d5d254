import { describe, expect, test } from "@jest/globals";
import { Ledger, type SimTransaction } from "../../src/simulator/index.js";

const NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

describe("add", () => {
  test("fills defaults", () => {
    const ledger = new Ledger();
    const before = new Date().toISOString().slice(0, 19);
    const row = ledger.add();
    expect(row).toMatchObject({ status: "success", balance_type: "platform", amount: "-1", after_balance: "-1" });
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row.created_at).toMatch(NAIVE);
    expect(row.created_at >= before).toBe(true);
    expect(row.updated_at).toBe(row.created_at);
    expect(row.description.length).toBeGreaterThan(0);
    expect(ledger.get(row.id)).toBe(row);
    expect(ledger.size).toBe(1);
  });

  test("accepts a Date and writes microseconds", () => {
    const row = new Ledger().add({ created_at: new Date("2025-01-07T13:01:15.397Z") });
    expect(row.created_at).toBe("2025-01-07T13:01:15.397000");
  });

  test("after_balance runs per balance_type, from the newest earlier row of that type", () => {
    const ledger = new Ledger();
    ledger.add({ created_at: "2025-01-01T00:00:00", amount: "1000" });
    ledger.add({ created_at: "2025-01-01T00:00:01", amount: "-10", balance_type: "leads_by_icp" });
    ledger.add({ created_at: "2025-01-01T00:00:02", amount: "-0.01" });
    const late = ledger.add({ created_at: "2025-01-03T00:00:00", amount: "-5" });
    expect(late.after_balance).toBe("994.99");
    // Inserted in the past: based on the row of its type just before it, not on the newest one.
    const past = ledger.add({ created_at: "2025-01-01T00:00:01.5", amount: "-0.5" });
    expect(past.after_balance).toBe("999.5");
    expect(ledger.add({ created_at: "2025-01-04T00:00:00", amount: "-10", balance_type: "leads_by_icp" }).after_balance).toBe("-20");
    expect(ledger.add({ amount: "-1", balance_type: "email_finder" }).after_balance).toBe("-1");
    expect(ledger.add({ amount: "-1", after_balance: "42" }).after_balance).toBe("42");
  });

  test("ids come from a seeded generator: same seed, same ids; never a duplicate", () => {
    const a = new Ledger([], { seed: 9 }),
      b = new Ledger([], { seed: 9 });
    const ids = Array.from({ length: 50 }, () => a.add().id);
    expect(Array.from({ length: 50 }, () => b.add().id)).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    expect(() => a.add({ id: ids[0] })).toThrow(/duplicate/);
  });

  test("rows come out newest first with ties broken by id descending", () => {
    const ledger = new Ledger();
    for (const id of ["b", "d", "a", "c"])
      ledger.add({ id: `0000000${id}-0000-4000-8000-000000000000`, created_at: "2025-01-01T00:00:00" });
    ledger.add({ created_at: "2025-01-02T00:00:00" });
    const all = ledger.all();
    expect(all.slice(1).map((r) => r.id[7])).toEqual(["d", "c", "b", "a"]);
    expect(all[0]!.created_at).toBe("2025-01-02T00:00:00.000000");
  });
});

describe("update and remove", () => {
  test("update changes fields, stamps updated_at, and re-sorts when created_at moves", () => {
    const ledger = new Ledger();
    const a = ledger.add({ created_at: "2025-01-01T00:00:00", status: "pending" });
    const b = ledger.add({ created_at: "2025-01-02T00:00:00" });
    const settled = ledger.update(a.id, { status: "success" });
    expect(settled.status).toBe("success");
    expect(settled.updated_at > a.updated_at).toBe(true);
    expect(ledger.get(a.id)).toBe(settled);
    expect(ledger.update(a.id, { updated_at: "2025-01-01T00:00:45.5" }).updated_at).toBe("2025-01-01T00:00:45.500000");
    ledger.update(a.id, { created_at: "2025-01-03T00:00:00" });
    expect(ledger.all().map((r) => r.id)).toEqual([a.id, b.id]);
    expect(ledger.size).toBe(2);
    expect(() => ledger.update("nope", { status: "error" })).toThrow(/unknown/);
  });

  test("remove", () => {
    const ledger = new Ledger();
    const a = ledger.add();
    expect(ledger.remove(a.id)).toBe(true);
    expect(ledger.remove(a.id)).toBe(false);
    expect(ledger.size).toBe(0);
    expect(ledger.get(a.id)).toBeUndefined();
  });

  test("stored rows are frozen and all() is a copy", () => {
    const ledger = new Ledger();
    const row = ledger.add();
    expect(() => {
      (row as { status: string }).status = "error";
    }).toThrow();
    ledger.all().pop();
    expect(ledger.size).toBe(1);
  });
});

test("the constructor sorts unsorted input and canonicalises it", () => {
  const rows: SimTransaction[] = [
    {
      id: "1",
      created_at: "2025-01-01T00:00:00",
      updated_at: "2025-01-01",
      status: "success",
      balance_type: "platform",
      amount: "-1.50",
      description: "",
      after_balance: "-1.5",
    },
    {
      id: "2",
      created_at: "2025-01-03T00:00:00.000000",
      updated_at: "2025-01-03T00:00:00.000000",
      status: "success",
      balance_type: "platform",
      amount: "-1",
      description: "",
      after_balance: "-3.5",
    },
    {
      id: "3",
      created_at: "2025-01-02T00:00:00.000000",
      updated_at: "2025-01-02T00:00:00.000000",
      status: "success",
      balance_type: "platform",
      amount: "-1",
      description: "",
      after_balance: "-2.5",
    },
  ];
  const ledger = new Ledger(rows);
  expect(ledger.all().map((r) => r.id)).toEqual(["2", "3", "1"]);
  expect(ledger.get("1")).toMatchObject({
    created_at: "2025-01-01T00:00:00.000000",
    updated_at: "2025-01-01T00:00:00.000000",
    amount: "-1.5",
  });
  expect(() => new Ledger([rows[0]!, rows[0]!])).toThrow(/duplicate/);
});

test("query results support offset/limit slicing and count", () => {
  const ledger = new Ledger();
  for (let i = 0; i < 30; i++)
    ledger.add({ created_at: `2025-01-01T00:00:${String(i).padStart(2, "0")}`, status: i % 3 ? "success" : "error" });
  const q = ledger.query(new URLSearchParams("status=error"));
  expect(q.count).toBe(10);
  expect(q.slice(8, 5)).toHaveLength(2);
  expect(q.slice(0, 3).map((r) => r.created_at)).toEqual([
    "2025-01-01T00:00:27.000000",
    "2025-01-01T00:00:24.000000",
    "2025-01-01T00:00:21.000000",
  ]);
  const noFilter = ledger.query(new URLSearchParams("created_at__gte=2025-01-01T00:00:25"));
  expect(noFilter.count).toBe(5);
  expect(noFilter.slice(3, 10)).toHaveLength(2);
  expect(noFilter.slice(10, 10)).toHaveLength(0);
});
