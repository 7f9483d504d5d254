import { describe, expect, test } from "@jest/globals";
import { parseJsonElementsKeepingNumbers, parseJsonKeepingNumbers } from "../../src/api/json.js";
import { parseSpentCredits, parseTransactionsPage } from "../../src/api/schema.js";
import { formatApiTimestamp, formatInstant, type Micros, parseTimestamp } from "../../src/time.js";

const row = {
  id: "51a800b8-5c0c-4f0b-9c3c-459ea2a3fad6",
  created_at: "2025-01-07T13:01:15.397996",
  updated_at: "2025-01-07T13:01:58.195959",
  status: "success",
  balance_type: "leads_by_icp",
  amount: -10,
  description: "leads info by ICP",
  after_balance: -2400,
};
const page = (rows: unknown[], extra = "") =>
  `{"count": ${rows.length}, "next": null, "previous": null, "limit": 100, "max_limit": 100, "offset": 0${extra}, "results": ${JSON.stringify(rows)}}`;

describe("API timestamps", () => {
  test("naive times are UTC, to the microsecond", () => {
    const micros = parseTimestamp("2025-01-07T13:01:15.397996")!;
    expect(micros).toBe(Date.UTC(2025, 0, 7, 13, 1, 15, 397) * 1000 + 996);
    expect(formatApiTimestamp(micros)).toBe("2025-01-07T13:01:15.397996");
    expect(formatInstant(micros)).toBe("2025-01-07T13:01:15.397996Z");
    expect(parseTimestamp("2025-01-07")).toBe(Date.UTC(2025, 0, 7) * 1000);
    expect(parseTimestamp("2025-01-07T13:01:15+02:00")).toBe(Date.UTC(2025, 0, 7, 11, 1, 15) * 1000);
    expect(formatApiTimestamp(parseTimestamp("1969-12-31T23:59:59.000001")!)).toBe("1969-12-31T23:59:59.000001");
  });
  test("formats days across years 0 to 9999 (every 13th, and every day of the years whose leap rules differ) and instants beyond as Date#toISOString does", () => {
    const reference = (micros: number) =>
      `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)}.${String(micros - Math.floor(micros / 1e6) * 1e6).padStart(6, "0")}`;
    const dayMicros = 86_400_000_000;
    const instants: number[] = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 253_402_300_800_000_000];
    const addDay = (day: number) => instants.push(day * dayMicros + ((day * 7919) % dayMicros), (day + 1) * dayMicros - 1);
    for (let day = -719_528; day < 2_932_897; day += 13) addDay(day);
    // Every day of the years whose leap rules differ (0 and 2000 leap, 1900 and 2100 not) and of the last.
    for (const year of [0, 4, 1600, 1900, 1970, 2000, 2024, 2100, 9999]) {
      const first = new Date(0).setUTCFullYear(year, 0, 1) / 86_400_000; // Date.UTC reads years 0-99 as 1900-1999
      for (let day = first; day < first + 366; day++) addDay(day);
    }
    const differing = instants.filter((micros) => formatApiTimestamp(micros as Micros) !== reference(micros));
    expect(differing.slice(0, 5)).toEqual([]);
  });
  test.each(["2024-02-29", "2000-02-29T23:59:59.999999", "2025-12-31T23:59:59"])("accepts %j", (text) => {
    expect(formatApiTimestamp(parseTimestamp(text)!).startsWith(text.slice(0, 10))).toBe(true);
  });
  test.each(["2000-02-29T23:59:59.999999", "2025-01-07T00:00:00.000000", "1999-12-31T23:59:59.000001", "2025-01-07T13:01:15.397996"])(
    "reads the API's own form %j to the microsecond, as every other form is read",
    (text) => {
      expect(formatApiTimestamp(parseTimestamp(text)!)).toBe(text);
      expect(parseTimestamp(text)).toBe(parseTimestamp(`${text}Z`)); // the pattern's reading of the same instant
    },
  );
  test.each([
    "2025-02-29",
    "2100-02-29",
    "2025-04-31",
    "2025-00-10",
    "2025-13-01",
    "2025-01-00",
    "2025-01-07T23:60:00",
    "2025-01-07T23:59:60",
    "2025-02-30",
    "2025-01-07T25:00:00",
    "07/01/2025",
    "2025-01-07T13:01:15.1234567",
    "",
    // The API's own form is read in place (no pattern): the same checks hold there.
    "2025-02-30T13:01:15.397996",
    "2100-02-29T13:01:15.397996",
    "2025-01-07T24:01:15.397996",
    "2025-01-07T13:60:15.397996",
    "2025-01-07T13:01:60.397996",
    "2025-01-07T13:01:15.39799x",
    "2025-0a-07T13:01:15.397996",
    "2025-01-07X13:01:15.397996",
    "+025-01-07T13:01:15.397996",
  ])("rejects %j", (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});

describe("instants the job can keep", () => {
  test.each([
    ["2025-01-07T13:01:15.397996", "2025-01-07T13:01:15.397996Z"],
    ["2025-01-07T13:01:15.3", "2025-01-07T13:01:15.300000Z"],
    ["2025-01-07", "2025-01-07T00:00:00.000000Z"],
    ["2025-01-07T13:01:15.397996+02:00", "2025-01-07T11:01:15.397996Z"],
    ["1700-03-01T00:00:00.000001", "1700-03-01T00:00:00.000001Z"],
  ])("%s is the instant %s", (text, expected) => {
    expect(formatInstant(parseTimestamp(text)!)).toBe(expected);
  });

  // Date.UTC would read 0024 as 1924; a double holds microseconds exactly only from about 1685 to 2255.
  test.each(["0024-01-07T13:01:15.397996", "0099-12-31", "1600-01-01T00:00:00.000000", "2300-01-01T00:00:00.000000"])(
    "%s is refused, not kept as another instant",
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );

  test("a page's rows carry the instant the API meant", () => {
    const page = parseTransactionsPage(
      JSON.stringify({ count: 1, results: [{ ...row, created_at: "2025-01-07T13:01:15.397996+01:00" }] }),
      "test",
    );
    expect(page.rows[0]).toMatchObject({ createdAt: parseTimestamp("2025-01-07T12:01:15.397996")! });
  });
});

describe("transactions page", () => {
  test("keeps money literals exact and raw verbatim", () => {
    const body = page([row]).replace('"amount":-10', '"amount":-0.1000000000000000055511151231257827');
    const parsed = parseTransactionsPage(body, "GET x");
    expect(parsed.rows[0]!.amount).toBe("-0.1000000000000000055511151231257827");
    expect(parsed.rows[0]!.afterBalance).toBe("-2400");
    expect(parsed.rows[0]!.raw).toContain('"amount":-0.1000000000000000055511151231257827');
    expect(JSON.parse(parsed.rows[0]!.raw).id).toBe(row.id);
    expect(parsed).toMatchObject({ count: 1, limit: 100, maxLimit: 100, offset: 0 });
  });

  test.each([
    ["-0.01", "-0.01"], // printed as JSON.stringify prints it: the plain parse is kept, and is exact
    ["-0.010", "-0.010"], // the rest keep their literal through a second parse
    ["1E2", "1E2"],
    ["-0", "-0"],
    ["12345678901234567890.123456789", "12345678901234567890.123456789"],
  ])("amount %s in a compact body reaches the row as %s, in amount and raw", (literal, expected) => {
    const body = JSON.stringify({ count: 1, limit: 100, max_limit: 100, offset: 0, results: [row] }).replace(
      '"amount":-10',
      `"amount":${literal}`,
    );
    const parsed = parseTransactionsPage(body, "GET x").rows[0]!;
    expect(parsed.amount).toBe(expected);
    expect(parsed.raw).toBe(JSON.stringify(row).replace('"amount":-10', `"amount":${expected}`));
  });

  const where = "GET /api/auth/transactions/?offset=200";
  const other = { ...row, id: "9f57c8e5-43c6-4baf-9777-7754fe481362" };

  test.each([
    [{ amount: "-10" }, "BAD_AMOUNT", 'invalid field "amount": expected a JSON number, got string "-10"'],
    [{ amount: null }, "MISSING_AMOUNT", 'invalid field "amount": expected a JSON number, got null'],
    [{ amount: undefined }, "MISSING_AMOUNT", 'invalid field "amount": expected a JSON number, it is missing'],
    [
      { created_at: "yesterday" },
      "BAD_CREATED_AT",
      'invalid field "created_at": expected a datetime like 2025-01-07T13:01:15.397996, got string "yesterday"',
    ],
    [
      { created_at: undefined },
      "MISSING_CREATED_AT",
      'invalid field "created_at": expected a datetime like 2025-01-07T13:01:15.397996, it is missing',
    ],
    [
      { updated_at: 17 },
      "BAD_UPDATED_AT",
      'invalid field "updated_at": expected a datetime like 2025-01-07T13:01:15.397996, got number 17',
    ],
    [{ after_balance: "-2400" }, "BAD_AFTER_BALANCE", 'invalid field "after_balance": expected a JSON number, got string "-2400"'],
    [{ status: 3 }, "BAD_STATUS", 'invalid field "status": expected a string, got number 3'],
    [{ description: 3 }, "BAD_DESCRIPTION", 'invalid field "description": expected a string or null, got number 3'],
  ])(
    "a row that cannot be a transaction %j is rejected with its text, the row id and the field; the page stands",
    (patch, code, message) => {
      const bad = { ...row, ...patch };
      const parsed = parseTransactionsPage(page([other, bad]), where);
      expect(parsed.rows.map((r) => r.id)).toEqual([other.id]);
      expect(parsed.rejected).toEqual([
        {
          id: row.id,
          code,
          position: 2,
          raw: JSON.stringify(bad),
          reason: `${where}, row 2: transaction ${row.id} has an ${message}`,
          createdAt: "created_at" in patch ? null : parseTimestamp(row.created_at),
        },
      ]);
    },
  );

  test.each([
    [{ id: 42 }, "BAD_ID"],
    [{ id: "not-a-uuid" }, "BAD_ID"],
    [{ id: undefined }, "MISSING_ID"],
  ])("a row without a readable id %j says so", (patch, code) => {
    const [rejected] = parseTransactionsPage(page([{ ...row, ...patch }]), "GET x").rejected;
    expect(rejected).toMatchObject({
      id: null,
      code,
      position: 1,
      reason: expect.stringContaining('row 1: a transaction without a readable id has an invalid field "id"'),
    });
  });

  test.each([
    [{ description: null }, { description: null }],
    [{ description: undefined }, { description: null }],
    [{ updated_at: undefined }, { updatedAt: null }],
    [{ updated_at: null }, { updatedAt: null }],
    [{ after_balance: null }, { afterBalance: null }],
    [{ status: "refunded" }, { status: "refunded" }],
    [{ balance_type: "" }, { balanceType: "" }],
    [{ description: "a\u0000b" }, { description: "a\uFFFDb" }],
    [{ description: "\ud800x\udc00" }, { description: "\uFFFDx\uFFFD" }],
    [{ description: "\ud83d\ude80 ok" }, { description: "\ud83d\ude80 ok" }],
    [{ status: "s\u0000" }, { status: "s\uFFFD" }],
  ])("a row that still describes a transaction %j is accepted: %j, raw keeps what was sent", (patch, expected) => {
    const sent = { ...row, ...patch };
    const parsed = parseTransactionsPage(page([sent]), "GET x");
    expect(parsed.rejected).toEqual([]);
    expect(parsed.rows[0]).toMatchObject(expected);
    expect(parsed.rows[0]!.raw).toBe(JSON.stringify(sent));
    expect(JSON.parse(parsed.rows[0]!.raw)).toEqual(JSON.parse(JSON.stringify(sent)));
  });

  test("broken envelopes and bodies", () => {
    expect(() => parseTransactionsPage('{"count": "many", "results": []}', "GET x")).toThrow(
      'the response envelope has an invalid field "count"',
    );
    expect(() => parseTransactionsPage('{"count": 1, "results": [', "GET x")).toThrow("GET x: the body is not valid JSON");
    expect(() => parseTransactionsPage("<html>502</html>", "GET x")).toThrow('it begins "<html>502</html>"');
  });
});

describe("spent credits", () => {
  test("values and total stay exact", () => {
    const parsed = parseSpentCredits(
      '{"spent_credits": {"2025-01-01T00:00:00": {"platform": -0.30, "/api/linkedin/leads/by_icp/": -4428}}, "total_spent_credits": -4428.30}',
      "GET y",
    );
    expect(parsed.total).toBe("-4428.30");
    expect(parsed.buckets.get("2025-01-01T00:00:00")!.get("platform")).toBe("-0.30");
  });
  test("a string value is refused with its path", () => {
    expect(() =>
      parseSpentCredits('{"spent_credits": {"2025-01-01T00:00:00": {"platform": "-1"}}, "total_spent_credits": -1}', "GET y"),
    ).toThrow('invalid field "spent_credits.2025-01-01T00:00:00.platform"');
  });
});

describe("a body's array read element by element (each row's raw comes with the parse)", () => {
  const rows = [row, { ...row, id: "51a800b8-5c0c-4f0b-9c3c-459ea2a3fad7", description: 'quote " and \\ and \u00e9' }];
  /** What the elements must be: each element of the body read as parseJsonKeepingNumbers reads it, stringified. */
  const expected = (text: string) =>
    ((parseJsonKeepingNumbers(text) as { results: unknown[] }).results ?? []).map((e) => JSON.stringify(e));

  test.each([
    ["a body printed as JSON.stringify prints it", JSON.stringify({ count: 2, next: null, results: rows })],
    ["results before the other members", JSON.stringify({ results: rows, count: 2 })],
    ["an empty page", JSON.stringify({ count: 0, results: [] })],
    ["the mark's own text in another member", JSON.stringify({ count: 2, note: "\u0000elements\u0000", results: rows })],
    ["the mark's own text in a row", JSON.stringify({ count: 2, results: [{ ...row, description: "\u0000elements\u0000" }] })],
    ["another results array nested in a member", JSON.stringify({ count: 2, extra: { results: [] }, results: rows })],
    ["number literals a double does not print back", page(rows).replace('"amount":-10', '"amount":-10.100000')],
    ["spaces between tokens", page(rows)],
    ["a row that is no object", JSON.stringify({ count: 3, results: [1.5, "x", null] })],
  ])("%s: the value as parseJsonKeepingNumbers reads it, each element's text as it stringifies", (_name, text) => {
    const { value, elements } = parseJsonElementsKeepingNumbers(text, "results");
    expect(JSON.stringify(value)).toBe(JSON.stringify(parseJsonKeepingNumbers(text)));
    expect(elements).toEqual(expected(text));
  });

  test("literals kept: a trailing zero stays in the element's text", () => {
    const { elements } = parseJsonElementsKeepingNumbers('{"count":1,"results":[{"amount":-10.100000,"n":1e2}]}', "results");
    expect(elements).toEqual(['{"amount":-10.100000,"n":1e2}']);
  });

  test("no array under the key: no elements", () => {
    expect(parseJsonElementsKeepingNumbers('{"count":1,"results":{"a":1}}', "results").elements).toBeUndefined();
    expect(parseJsonElementsKeepingNumbers("[1,2]", "results").elements).toBeUndefined();
    expect(parseJsonElementsKeepingNumbers("7", "results").elements).toBeUndefined();
  });

  test("a page's rows keep their own text as raw, on either path", () => {
    const exact = parseTransactionsPage(JSON.stringify({ count: 2, results: rows }), "GET x");
    expect(exact.rows.map((r) => r.raw)).toEqual(rows.map((r) => JSON.stringify(r)));
    const literal = parseTransactionsPage(page(rows).replace('"amount":-10', '"amount":-10.100000'), "GET x");
    expect(literal.rows[0]!.raw).toContain('"amount":-10.100000');
    expect(literal.rows[0]!.amount).toBe("-10.100000");
  });
});

describe("spent credits read without zod when the body holds (zod words every failure)", () => {
  const body = (spent: string, total = "-1") => `{"spent_credits": ${spent}, "total_spent_credits": ${total}}`;
  test("the same answer as the schema: buckets and labels in order, literals kept, members beyond ignored", () => {
    const parsed = parseSpentCredits(
      '{"extra": [1], "spent_credits": {"2025-01-02T00:00:00": {"b": -1.50, "a": 2}, "2025-01-01T00:00:00": {}}, "total_spent_credits": 0.50}',
      "GET y",
    );
    expect([...parsed.buckets.keys()]).toEqual(["2025-01-02T00:00:00", "2025-01-01T00:00:00"]);
    expect([...parsed.buckets.get("2025-01-02T00:00:00")!]).toEqual([
      ["b", "-1.50"],
      ["a", "2"],
    ]);
    expect(parsed.buckets.get("2025-01-01T00:00:00")!.size).toBe(0);
    expect(parsed.total).toBe("0.50");
  });
  test.each([
    [body('{"d": {"platform": null}}'), 'invalid field "spent_credits.d.platform"'],
    [body('{"d": [1]}'), 'invalid field "spent_credits.d"'],
    [body('{"d": 1.50}'), 'invalid field "spent_credits.d.rawJSON"'], // zod's wording for a number kept as its literal
    [body("[]"), 'invalid field "spent_credits"'],
    [body('{"d": {}}', '"1"'), 'invalid field "total_spent_credits"'],
    ['{"total_spent_credits": 1}', 'invalid field "spent_credits"'],
    ["[1]", "GET y: the response has an invalid field"],
  ])("%s is refused: %s", (text, message) => {
    expect(() => parseSpentCredits(text, "GET y")).toThrow(message);
  });
  test("a __proto__ key is read as the schema reads it (left out, as before)", () => {
    const parsed = parseSpentCredits(body('{"__proto__": {"platform": -1}, "d": {"__proto__": 2, "x": 1}}'), "GET y");
    expect(JSON.stringify([...parsed.buckets].map(([k, v]) => [k, [...v]]))).toBe('[["d",[["x","1"]]]]');
  });
});
