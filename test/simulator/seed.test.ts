import { describe, expect, test } from "@jest/globals";
import { Ledger, type SimTransaction, seedTransactions, startSimulator } from "../../src/simulator/index.js";
import { hourMs } from "../helpers/time.js";
import { get, TOKEN, toMicro, txPath } from "./support.js";

const FROM = new Date("2022-06-01T00:00:00Z");
const TO = new Date("2025-06-01T12:00:00Z");
const LEGACY = ["leads_by_icp", "lead_by_link", "companies_by_icp", "company_by_link", "email_finder", "email_verifier"];
const micros = (naive: string) => Date.parse(`${naive.slice(0, 23)}Z`) * 1000 + Number(naive.slice(23));

describe("determinism", () => {
  test("same options give identical rows, ids included", () => {
    const a = seedTransactions({ seed: 42, rows: 3000, from: FROM, to: TO });
    const b = seedTransactions({ seed: 42, rows: 3000, from: FROM, to: TO });
    expect(b).toEqual(a);
  });

  test("another seed gives another ledger", () => {
    const a = seedTransactions({ seed: 42, rows: 100, from: FROM, to: TO });
    const c = seedTransactions({ seed: 43, rows: 100, from: FROM, to: TO });
    expect(c.map((r) => r.id)).not.toEqual(a.map((r) => r.id));
  });
});

describe("realism", () => {
  const rows = seedTransactions({ seed: 7, rows: 20_000, from: FROM, to: TO });
  const chronological = [...rows].reverse();

  test("exact count, newest first, strictly ordered, inside [from, to)", () => {
    expect(rows).toHaveLength(20_000);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.created_at > rows[i]!.created_at).toBe(true);
    expect(micros(rows.at(-1)!.created_at)).toBeGreaterThanOrEqual(FROM.getTime() * 1000);
    expect(micros(rows[0]!.created_at)).toBeLessThan(TO.getTime() * 1000);
  });

  test("well-formed fields", () => {
    const ids = new Set<string>();
    for (const r of rows) {
      expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(r.id);
      expect(r.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
      expect(r.amount).toMatch(/^-?\d+(\.\d+)?$/);
      expect(r.after_balance).toMatch(/^-?\d+(\.\d+)?$/);
      expect(["pending", "success", "error"]).toContain(r.status);
    }
    expect(ids.size).toBe(rows.length);
    // Microseconds are really used, not just zero-padded milliseconds.
    expect(rows.filter((r) => !r.created_at.endsWith("000")).length).toBeGreaterThan(rows.length * 0.9);
  });

  test("many small fractional charges", () => {
    const charges = rows.filter((r) => r.amount.startsWith("-"));
    expect(charges.length).toBeGreaterThan(rows.length * 0.95);
    expect(charges.filter((r) => r.amount.includes(".")).length).toBeGreaterThan(charges.length * 0.3);
    for (const a of ["-0.01", "-0.5", "-2.25"]) expect(charges.some((r) => r.amount === a)).toBe(true);
  });

  test("platform is most common; old rows use the legacy per-endpoint types", () => {
    const byType = new Map<string, number>();
    for (const r of rows) byType.set(r.balance_type, (byType.get(r.balance_type) ?? 0) + 1);
    const [top] = [...byType.entries()].sort((a, b) => b[1] - a[1]);
    expect(top![0]).toBe("platform");
    for (const t of LEGACY) expect(byType.get(t)).toBeGreaterThan(0);
    const span = TO.getTime() - FROM.getTime();
    const oldest = rows.filter((r) => micros(r.created_at) / 1000 < FROM.getTime() + span * 0.3);
    expect(oldest.filter((r) => LEGACY.includes(r.balance_type)).length).toBeGreaterThan(oldest.length * 0.9);
    const newest = rows.filter((r) => micros(r.created_at) / 1000 > FROM.getTime() + span * 0.5);
    expect(newest.filter((r) => r.balance_type === "platform").length).toBeGreaterThan(newest.length * 0.9);
  });

  test("top-ups keep platform funded; refunds repay an earlier charge", () => {
    const topUps = rows.filter((r) => r.description === "balance top-up");
    expect(topUps.length).toBeGreaterThan(0);
    for (const r of topUps) {
      expect(r.balance_type).toBe("platform");
      expect(["250", "500", "1000", "2500"]).toContain(r.amount);
    }
    const refunds = rows.filter((r) => r.description.startsWith("refund"));
    expect(refunds.length).toBeGreaterThan(10);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const refund of refunds) {
      const chargeId = /\(([0-9a-f-]{36})\)$/.exec(refund.description)?.[1];
      const charge = byId.get(chargeId ?? "");
      expect(charge).toBeDefined();
      expect(charge!.amount).toBe(`-${refund.amount}`);
      expect(charge!.balance_type).toBe(refund.balance_type);
      expect(charge!.status).toBe("success");
      expect(charge!.created_at < refund.created_at).toBe(true);
    }
  });

  test("some charges ended in error", () => {
    const errors = rows.filter((r) => r.status === "error");
    expect(errors.length).toBeGreaterThan(rows.length * 0.005);
    for (const r of errors) expect(r.amount.startsWith("-")).toBe(true);
  });

  test("after_balance is the exact running balance per balance_type", () => {
    const balances = new Map<string, bigint>();
    for (const r of chronological) {
      const next = (balances.get(r.balance_type) ?? 0n) + toMicro(r.amount);
      balances.set(r.balance_type, next);
      expect(toMicro(r.after_balance)).toBe(next);
    }
    expect(balances.get("platform")! >= 0n).toBe(true); // top-ups happen before it runs dry
  });
});

test("rows from the last 60 s are pending; older rows settled 30-60 s after creation", () => {
  const to = new Date("2025-06-01T12:00:00Z");
  const rows = seedTransactions({ seed: 3, rows: 3000, from: new Date(to.getTime() - hourMs), to });
  const cutoff = (to.getTime() - 60_000) * 1000;
  const pending = rows.filter((r) => r.status === "pending");
  expect(pending.length).toBeGreaterThan(10);
  for (const r of rows) {
    const created = micros(r.created_at);
    if (created >= cutoff) {
      expect(r.status).toBe("pending");
      expect(r.updated_at).toBe(r.created_at);
    } else {
      expect(r.status).not.toBe("pending");
      const settledAfter = micros(r.updated_at) - created;
      expect(settledAfter).toBeGreaterThanOrEqual(30_000_000);
      expect(settledAfter).toBeLessThanOrEqual(60_000_000);
    }
  }
});

/** CPU milliseconds this process has used: the simulator runs here, and unlike the wall clock they do not grow with the machine's other load. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

test("a million rows are generated in seconds and served quickly", async () => {
  let t = cpuMs();
  const rows: SimTransaction[] = seedTransactions({ seed: 1, rows: 1_000_000, from: FROM, to: TO });
  const seedMs = cpuMs() - t;
  expect(rows).toHaveLength(1_000_000);
  expect(seedMs).toBeLessThan(10_000);

  t = cpuMs();
  const sim = await startSimulator({ token: TOKEN, ledger: new Ledger(rows) });
  try {
    const pages = [];
    for (const offset of [0, 500_000, 999_900]) pages.push(await get(sim, txPath({ offset: String(offset) })));
    const window = await get(sim, txPath({ created_at__gte: "2024-01-01", amount__lt: "-1", offset: "20000" }));
    const again = await get(sim, txPath({ created_at__gte: "2024-01-01", amount__lt: "-1", offset: "20100" }));
    expect(cpuMs() - t).toBeLessThan(10_000);
    expect(pages.map((p) => p.json.results.length)).toEqual([100, 100, 100]);
    expect(pages[2]!.json.results[99].id).toBe(rows[999_999]!.id);
    expect(window.json.count).toBe(again.json.count);
    expect(window.json.results[99].created_at > again.json.results[0].created_at).toBe(true);
  } finally {
    await sim.close();
  }
}, 60_000);
