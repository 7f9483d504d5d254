import { describe, expect, test } from "@jest/globals";
import { renderCsv } from "../../src/statement/csv.js";
import { groupDecimal, sumDecimals } from "../../src/statement/decimal.js";
import { renderHtml } from "../../src/statement/html.js";
import type { Statement } from "../../src/statement/model.js";

describe("statement decimals", () => {
  test("sums are exact where floats are not, at any scale and size", () => {
    expect(sumDecimals(Array(10_000).fill("-0.01"))).toBe("-100");
    expect(
      Array(10_000)
        .fill(-0.01)
        .reduce((a, b) => a + b, 0),
    ).not.toBe(-100); // what a float would print
    expect(sumDecimals(["0.1", "0.2"])).toBe("0.3");
    expect(sumDecimals(["9007199254740993.0000001", "1"])).toBe("9007199254740994.0000001");
    expect(sumDecimals(["-1.50", "1.5"])).toBe("0");
    expect(sumDecimals([])).toBe("0");
  });

  test("grouping follows the locale digit for digit", () => {
    expect(groupDecimal("-1234567.015", "en-US")).toBe("-1,234,567.015");
    expect(groupDecimal("1234567.5", "de-DE")).toBe("1.234.567,5");
    expect(groupDecimal("999", "en-US")).toBe("999");
    expect(groupDecimal("12345678901234567890.123456789", "en-US")).toBe("12,345,678,901,234,567,890.123456789");
  });
});

describe("statement renderers", () => {
  const statement: Statement = {
    account: "a,b",
    from: "2025-01",
    to: "2025-02",
    notices: ["2025-02 not yet complete"],
    lines: [
      {
        account: "a,b",
        month: "2025-01",
        balance_type: "platform",
        opening_balance: null,
        charges: "-1234.5",
        top_ups: "2500",
        refunds: "0",
        reversed: "-1",
        pending: "0",
        closing_balance: "1264.5",
        generect_spent: "-1234.5",
        difference: "0",
        balance_difference: "0",
        complete: true,
      },
      {
        account: "a,b",
        month: "2025-02",
        balance_type: "platform",
        opening_balance: "1264.5",
        charges: null,
        top_ups: null,
        refunds: null,
        reversed: null,
        pending: null,
        closing_balance: null,
        generect_spent: null,
        difference: null,
        balance_difference: null,
        complete: false,
      },
    ],
    days: [{ day: "2025-01-01", state: "agrees", api_spent: "-1", ledger_spent: "-1" }],
    proofs: {
      balance_chain_breaks: { available: false, reason: "not available yet" },
      users_me_checkpoint: { available: false, reason: "not available yet" },
      audit_sweep: { available: false, reason: "not available yet" },
      quarantined_rows: { available: true, value: 0 },
      days_not_complete: { available: true, value: { count: 0, first: null } },
      days_differing: { available: true, value: 0 },
    },
    provenance: {
      generated_at: "2025-03-01T00:00:00.000Z",
      version: "0.1.0",
      timezone: "UTC",
      first_run_id: "1",
      last_run_id: "9",
      watermark: "2025-02-10T00:00:00.000000Z",
    },
  };

  test("CSV: the issue's columns, unknown figures empty (not 0), quoting where needed", () => {
    const [header, first, second] = renderCsv(statement).trimEnd().split("\n");
    expect(header).toBe(
      "account,month,balance_type,opening_balance,charges,top_ups,refunds,reversed,pending,closing_balance,generect_spent,difference,balance_difference,complete",
    );
    expect(first).toBe('"a,b",2025-01,platform,,-1234.5,2500,0,-1,0,1264.5,-1234.5,0,0,true');
    expect(second).toBe('"a,b",2025-02,platform,1264.5,,,,,,,,,,false');
  });

  test("HTML: self-contained, grouped for the locale, n/a for the unknown, exact text kept in data-value", () => {
    const html = renderHtml(statement, { locale: "de-DE" });
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
    expect(html).toContain('data-value="-1234.5">-1.234,5</td>');
    expect(html).toContain('class="na charges" data-value="">n/a</td>');
    expect(html).toContain("2025-02 not yet complete");
    expect(html).toContain("@media print");
  });
});
