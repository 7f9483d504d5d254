import { expect, test } from "@jest/globals";
import { Ledger } from "../../src/simulator/index.js";
import { get, spentPath, sumDecimals, txPath, withSimulator } from "./support.js";

test("10,000 charges of -0.01 in one day spend exactly -100", async () => {
  const ledger = new Ledger();
  const start = Date.parse("2025-03-03T00:00:00Z");
  for (let i = 0; i < 10_000; i++) ledger.add({ created_at: new Date(start + i * 8_000), amount: "-0.01" });
  expect(ledger.all()[0]!.after_balance).toBe("-100"); // running balance, summed exactly

  const direct = ledger.spentCredits({ timezone: "UTC", period: "day", startDate: "2025-03-03", endDate: "2025-03-03" });
  expect(direct).toEqual({ spent_credits: { "2025-03-03T00:00:00": { platform: "-100" } }, total_spent_credits: "-100" });

  await withSimulator({ ledger }, async (sim) => {
    const res = await get(sim, spentPath({ timezone: "UTC", period: "day", start_date: "2025-03-03", end_date: "2025-03-03" }));
    expect(res.text).toBe('{"spent_credits":{"2025-03-03T00:00:00":{"platform":-100}},"total_spent_credits":-100}');
  });
});

test("amounts and balances reach the wire as the stored literals", async () => {
  const ledger = new Ledger();
  const amounts = ["-0.1", "-0.2", "-0.015", "1234.5", "-2.25", "123456789012.345678", "-0.000001"];
  for (const [i, amount] of amounts.entries()) ledger.add({ created_at: `2025-01-01T00:00:0${i}`, amount });
  await withSimulator({ ledger }, async (sim) => {
    const res = await get(sim, txPath());
    for (const row of ledger.all()) {
      expect(res.text).toContain(`"amount":${row.amount},"description":`);
      expect(res.text).toContain(`"after_balance":${row.after_balance}}`);
    }
    // 0.1 + 0.2 in floats is 0.30000000000000004; the ledger says exactly -0.3.
    expect(res.text).toContain('"after_balance":-0.3}');
    expect(sumDecimals(amounts)).toBe("123456790244.280677");
    expect(res.text).toContain('"after_balance":123456790244.280677}');
    expect(res.text).not.toMatch(/\d\.\d*0000000|99999999/);
    // Beyond what a double holds exactly, filters still compare exactly.
    const big = await get(sim, txPath({ amount__gt: "123456789012.345677" }));
    expect(big.json.count).toBe(1);
    const notBig = await get(sim, txPath({ amount__gt: "123456789012.345678" }));
    expect(notBig.json.count).toBe(0);
  });
});

test("non-canonical input is stored canonically", () => {
  const ledger = new Ledger();
  expect(ledger.add({ amount: "-10.00" }).amount).toBe("-10");
  expect(ledger.add({ amount: -0.5 }).amount).toBe("-0.5");
  expect(ledger.add({ amount: "+3.10", after_balance: "007.250" })).toMatchObject({ amount: "3.1", after_balance: "7.25" });
  expect(() => ledger.add({ amount: "1e3" })).toThrow();
  expect(() => ledger.add({ amount: "0.0000001" })).toThrow(); // finer than a micro-credit
});
