import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { BadRequestError, Ledger, type SimulatorHandle, type TxStatus } from "../../src/simulator/index.js";
import { get, spentPath, sumDecimals, withSimulator } from "./support.js";

type Row = [created_at: string, amount: string, balance_type?: string, status?: TxStatus];

function ledgerOf(rows: Row[]): Ledger {
  const ledger = new Ledger();
  for (const [created_at, amount, balance_type = "platform", status = "success"] of rows) {
    ledger.add({ created_at, amount, balance_type, status });
  }
  return ledger;
}

const LEADS = "/api/linkedin/leads/by_icp/";
const COMPANY = "/api/linkedin/company/by_link/";
const VERIFIER = "/api/linkedin/email_verifier/";

describe("UTC, all five periods", () => {
  const ledger = ledgerOf([
    ["2024-12-30T10:00:00", "-1"], // a Monday
    ["2025-01-01T00:00:00", "-10", "leads_by_icp"], // a Wednesday
    ["2025-01-01T23:59:59.999999", "-0.25"],
    ["2025-01-06T00:00:00", "-0.01", "email_verifier"], // next Monday
    ["2025-02-15T12:00:00", "-2.25"],
    ["2025-04-01T00:00:00", "-3", "company_by_link"],
    ["2025-12-31T23:59:59.999999", "-0.5"],
    // Not spending: pending, error, top-up, zero.
    ["2025-01-01T05:00:00", "-100", "platform", "pending"],
    ["2025-01-01T06:00:00", "-100", "platform", "error"],
    ["2025-01-01T07:00:00", "500", "platform", "success"],
    ["2025-01-01T08:00:00", "0", "platform", "success"],
  ]);
  const range = { timezone: "UTC", startDate: "2024-12-01", endDate: "2025-12-31" };

  test.each([
    [
      "day",
      {
        "2025-12-31T00:00:00": { platform: "-0.5" },
        "2025-04-01T00:00:00": { [COMPANY]: "-3" },
        "2025-02-15T00:00:00": { platform: "-2.25" },
        "2025-01-06T00:00:00": { [VERIFIER]: "-0.01" },
        "2025-01-01T00:00:00": { [LEADS]: "-10", platform: "-0.25" },
        "2024-12-30T00:00:00": { platform: "-1" },
      },
    ],
    [
      "week",
      {
        "2025-12-29T00:00:00": { platform: "-0.5" },
        "2025-03-31T00:00:00": { [COMPANY]: "-3" },
        "2025-02-10T00:00:00": { platform: "-2.25" },
        "2025-01-06T00:00:00": { [VERIFIER]: "-0.01" },
        "2024-12-30T00:00:00": { [LEADS]: "-10", platform: "-1.25" },
      },
    ],
    [
      "month",
      {
        "2025-12-01T00:00:00": { platform: "-0.5" },
        "2025-04-01T00:00:00": { [COMPANY]: "-3" },
        "2025-02-01T00:00:00": { platform: "-2.25" },
        "2025-01-01T00:00:00": { [LEADS]: "-10", [VERIFIER]: "-0.01", platform: "-0.25" },
        "2024-12-01T00:00:00": { platform: "-1" },
      },
    ],
    [
      "quarter",
      {
        "2025-10-01T00:00:00": { platform: "-0.5" },
        "2025-04-01T00:00:00": { [COMPANY]: "-3" },
        "2025-01-01T00:00:00": { [LEADS]: "-10", [VERIFIER]: "-0.01", platform: "-2.5" },
        "2024-10-01T00:00:00": { platform: "-1" },
      },
    ],
    [
      "year",
      {
        "2025-01-01T00:00:00": { [LEADS]: "-10", [COMPANY]: "-3", [VERIFIER]: "-0.01", platform: "-3" },
        "2024-01-01T00:00:00": { platform: "-1" },
      },
    ],
  ] as const)("%s", (period, expected) => {
    const result = ledger.spentCredits({ ...range, period });
    expect(result.spent_credits).toEqual(expected);
    expect(Object.keys(result.spent_credits)).toEqual(Object.keys(expected)); // newest bucket first
    expect(result.total_spent_credits).toBe("-17.01");
  });

  test("start_date and end_date are inclusive; a week bucket may start before start_date", () => {
    const day = ledger.spentCredits({ timezone: "UTC", period: "day", startDate: "2025-01-01", endDate: "2025-01-01" });
    expect(day.spent_credits).toEqual({ "2025-01-01T00:00:00": { [LEADS]: "-10", platform: "-0.25" } });
    const week = ledger.spentCredits({ timezone: "UTC", period: "week", startDate: "2025-01-01", endDate: "2025-01-06" });
    expect(week.spent_credits).toEqual({
      "2025-01-06T00:00:00": { [VERIFIER]: "-0.01" },
      "2024-12-30T00:00:00": { [LEADS]: "-10", platform: "-0.25" },
    });
  });

  test("an empty or reversed date range is an empty answer", () => {
    expect(ledger.spentCredits({ timezone: "UTC", period: "day", startDate: "2026-01-01", endDate: "2026-01-31" })).toEqual({
      spent_credits: {},
      total_spent_credits: "0",
    });
    expect(ledger.spentCredits({ timezone: "UTC", period: "day", startDate: "2025-12-31", endDate: "2025-01-01" })).toEqual({
      spent_credits: {},
      total_spent_credits: "0",
    });
  });
});

describe("America/Los_Angeles across DST changes", () => {
  const spring = ledgerOf([
    ["2025-03-09T07:59:59.999999", "-1"], // 2025-03-08 23:59:59 PST
    ["2025-03-09T08:00:00", "-2"], // 2025-03-09 00:00 PST
    ["2025-03-10T06:59:59.999999", "-4"], // 2025-03-09 23:59:59 PDT (the day had 23 hours)
    ["2025-03-10T07:30:00", "-8"], // 2025-03-10 00:30 PDT; a fixed -08:00 would say 03-09
  ]);
  const fall = ledgerOf([
    ["2025-11-02T06:59:59.999999", "-1"], // 2025-11-01 23:59:59 PDT (a Saturday)
    ["2025-11-02T07:00:00", "-2"], // 2025-11-02 00:00 PDT (a Sunday)
    ["2025-11-02T08:30:00", "-4"], // 01:30 PDT, first pass
    ["2025-11-02T09:30:00", "-8"], // 01:30 PST, second pass
    ["2025-11-03T07:30:00", "-16"], // 2025-11-02 23:30 PST; a fixed -07:00 would say 11-03
    ["2025-11-03T08:00:00", "-32"], // 2025-11-03 00:00 PST (a Monday)
  ]);
  const tz = "America/Los_Angeles";

  test("spring forward (2025-03-09)", () => {
    expect(spring.spentCredits({ timezone: tz, period: "day", startDate: "2025-03-08", endDate: "2025-03-10" })).toEqual({
      spent_credits: {
        "2025-03-10T00:00:00": { platform: "-8" },
        "2025-03-09T00:00:00": { platform: "-6" },
        "2025-03-08T00:00:00": { platform: "-1" },
      },
      total_spent_credits: "-15",
    });
    expect(spring.spentCredits({ timezone: tz, period: "day", startDate: "2025-03-09", endDate: "2025-03-09" }).total_spent_credits).toBe(
      "-6",
    );
  });

  test("fall back (2025-11-02)", () => {
    expect(fall.spentCredits({ timezone: tz, period: "day", startDate: "2025-11-01", endDate: "2025-11-03" }).spent_credits).toEqual({
      "2025-11-03T00:00:00": { platform: "-32" },
      "2025-11-02T00:00:00": { platform: "-30" },
      "2025-11-01T00:00:00": { platform: "-1" },
    });
    expect(fall.spentCredits({ timezone: tz, period: "week", startDate: "2025-11-01", endDate: "2025-11-03" }).spent_credits).toEqual({
      "2025-11-03T00:00:00": { platform: "-32" },
      "2025-10-27T00:00:00": { platform: "-31" },
    });
    // The same rows bucket differently in UTC, so the zone really is applied.
    expect(fall.spentCredits({ timezone: "UTC", period: "day", startDate: "2025-11-01", endDate: "2025-11-03" }).spent_credits).toEqual({
      "2025-11-03T00:00:00": { platform: "-48" },
      "2025-11-02T00:00:00": { platform: "-15" },
    });
  });
});

describe("half- and quarter-hour zones", () => {
  const ledger = ledgerOf([
    ["2024-12-31T18:29:00", "-8"], // Kolkata 2024-12-31 23:59
    ["2024-12-31T18:30:00", "-4"], // Kolkata 2025-01-01 00:00
    ["2025-01-31T18:29:59.999999", "-1"], // Kolkata 2025-01-31 23:59:59.999999
    ["2025-01-31T18:30:00", "-2"], // Kolkata 2025-02-01 00:00
  ]);

  test("Asia/Kolkata (+05:30) months, years and days", () => {
    const tz = "Asia/Kolkata";
    expect(ledger.spentCredits({ timezone: tz, period: "month", startDate: "2024-12-01", endDate: "2025-02-28" }).spent_credits).toEqual({
      "2025-02-01T00:00:00": { platform: "-2" },
      "2025-01-01T00:00:00": { platform: "-5" },
      "2024-12-01T00:00:00": { platform: "-8" },
    });
    expect(ledger.spentCredits({ timezone: tz, period: "year", startDate: "2024-01-01", endDate: "2025-12-31" }).spent_credits).toEqual({
      "2025-01-01T00:00:00": { platform: "-7" },
      "2024-01-01T00:00:00": { platform: "-8" },
    });
    expect(ledger.spentCredits({ timezone: tz, period: "day", startDate: "2025-01-01", endDate: "2025-01-01" })).toEqual({
      spent_credits: { "2025-01-01T00:00:00": { platform: "-4" } },
      total_spent_credits: "-4",
    });
  });

  test("Asia/Kathmandu (+05:45)", () => {
    const k = ledgerOf([
      ["2025-01-31T18:14:59.999999", "-1"],
      ["2025-01-31T18:15:00", "-2"],
    ]);
    expect(
      k.spentCredits({ timezone: "Asia/Kathmandu", period: "day", startDate: "2025-01-31", endDate: "2025-02-01" }).spent_credits,
    ).toEqual({
      "2025-02-01T00:00:00": { platform: "-2" },
      "2025-01-31T00:00:00": { platform: "-1" },
    });
  });
});

describe("over HTTP", () => {
  let sim: SimulatorHandle;
  const ledger = ledgerOf([
    ["2025-01-01T10:00:00", "-0.1"],
    ["2025-01-01T11:00:00", "-0.2"],
    ["2025-01-02T10:00:00", "-1.5", "leads_by_icp"],
    ["2025-01-02T10:00:00", "-7", "custom_thing"], // unknown types keep their own name as label
  ]);
  beforeAll(async () => {
    sim = await (await import("../../src/simulator/index.js")).startSimulator({ token: "test-token-123", ledger });
  });
  afterAll(() => sim.close());

  test("values and total are exact number literals", async () => {
    const res = await get(sim, spentPath({ timezone: "UTC", period: "day", start_date: "2025-01-01", end_date: "2025-01-31" }));
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      `{"spent_credits":{"2025-01-02T00:00:00":{"${LEADS}":-1.5,"custom_thing":-7},"2025-01-01T00:00:00":{"platform":-0.3}},"total_spent_credits":-8.8}`,
    );
  });

  test("total equals the sum of the values", async () => {
    const res = await get(sim, spentPath({ timezone: "Asia/Kolkata", period: "week", start_date: "2024-12-01", end_date: "2025-01-31" }));
    const values = Object.values(res.json.spent_credits as Record<string, Record<string, number>>).flatMap((b) => Object.values(b));
    expect(sumDecimals(values.map(String))).toBe(String(res.json.total_spent_credits));
  });

  const ok = { timezone: "UTC", period: "day", start_date: "2025-01-01", end_date: "2025-01-31" };
  test.each([
    ["missing timezone", { ...ok, timezone: undefined }],
    ["missing period", { ...ok, period: undefined }],
    ["missing start_date", { ...ok, start_date: undefined }],
    ["missing end_date", { ...ok, end_date: undefined }],
    ["empty timezone", { ...ok, timezone: "" }],
    ["bad period", { ...ok, period: "hour" }],
    ["unknown timezone", { ...ok, timezone: "Mars/Olympus_Mons" }],
    ["offset instead of a zone name", { ...ok, timezone: "+05:30" }],
    ["impossible date", { ...ok, start_date: "2025-02-30" }],
    ["not a date", { ...ok, end_date: "yesterday" }],
  ])("%s → 400", async (_name, params) => {
    const query = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const res = await get(sim, spentPath(query));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: "error", status_code: 400, detail: expect.any(String) });
  });

  test("Ledger.spentCredits throws BadRequestError for the same mistakes", () => {
    expect(() => ledger.spentCredits({ timezone: "Nope/Nope", period: "day", startDate: "2025-01-01", endDate: "2025-01-02" })).toThrow(
      BadRequestError,
    );
    expect(() =>
      ledger.spentCredits({ timezone: "UTC", period: "decade" as "day", startDate: "2025-01-01", endDate: "2025-01-02" }),
    ).toThrow(BadRequestError);
  });
});

test("bucket keys are local midnight without an offset, labels only where something was spent", async () => {
  const ledger = ledgerOf([
    ["2025-06-15T12:00:00", "-1"],
    ["2025-06-15T12:00:00", "5", "leads_by_icp"],
  ]);
  await withSimulator({ ledger }, async (sim) => {
    const res = await get(sim, spentPath({ timezone: "Europe/Berlin", period: "month", start_date: "2025-06-01", end_date: "2025-06-30" }));
    expect(Object.keys(res.json.spent_credits)).toEqual(["2025-06-01T00:00:00"]);
    expect(res.json.spent_credits["2025-06-01T00:00:00"]).toEqual({ platform: -1 });
    for (const key of Object.keys(res.json.spent_credits)) expect(key).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00$/);
  });
});
