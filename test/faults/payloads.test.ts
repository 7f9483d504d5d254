// Scenario 9: bad API payloads that persist (not a one-off a retry gets past): wrong types, missing
// fields, a bad uuid, a bad datetime, an unknown status, a non-JSON body, an envelope without
// results. The window where they appear commits nothing, the error names the row and the field, and
// the token appears in no output (logs, error, sync_runs, the CLI's stdout/stderr).
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import type { BadRowKind, InterceptResponse, SimulatorHandle } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/api/time.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger } from "../helpers/sync.js";
import { armAtWindow, cli, countRows, day, guardCliOutput, runs, seededSimulator, syncLogged, testToken, watermarkOf } from "./support.js";

guardCliOutput();

interface Case {
  name: string;
  /** A row of every page broken this way (the row is named in the error)... */
  row?: BadRowKind;
  /** ...or every transactions answer replaced by this body. */
  body?: string;
  message: RegExp;
}

const row = (field: string, detail: string) =>
  new RegExp(`GET /api/auth/transactions/\\?created_at__gte=[^ ]+, row \\d+: transaction [0-9a-z-]+ has an invalid field "${field}": ${detail}`);

const cases: Case[] = [
  { name: "amount as a string (wrong type)", row: "amount-as-string", message: row("amount", 'expected a JSON number, got string "-?[0-9.]+"') },
  { name: "after_balance null (wrong type)", row: "null-after-balance", message: row("after_balance", "expected a JSON number, got null") },
  { name: "description missing", row: "missing-description", message: row("description", "expected a string, it is missing") },
  { name: "a bad uuid", row: "bad-uuid", message: row("id", 'expected a uuid, got string "not-a-uuid"') },
  { name: "a bad datetime", row: "bad-datetime", message: row("created_at", 'expected a datetime like 2025-01-07T13:01:15.397996, got string "2025-13-45T25:61:00"') },
  { name: "an unknown status", row: "unknown-status", message: row("status", 'expected one of pending, success, error, got string "refunded"') },
  { name: "a non-JSON body", body: "<!doctype html><p>Upstream error</p>", message: /the body is not valid JSON \(.*\); it begins "<!doctype html>/ },
  { name: "an envelope without results", body: '{"count": 12, "next": null, "previous": null}', message: /the response envelope has an invalid field "results": expected an array of transactions, it is missing/ },
  { name: "a count of the wrong type", body: '{"count": "12", "results": []}', message: /the response envelope has an invalid field "count": expected a JSON number, got string "12"/ },
];

describe("bad API payloads", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-payloads");
    sim = await seededSimulator(901, 900, 30);
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  const arm = (c: Case) => {
    const respond = c.body === undefined ? undefined : (): InterceptResponse => ({ status: 200, body: c.body! });
    return armAtWindow(sim, 3, () => {
      if (c.row) Object.assign(sim.faults, { badRowNext: Infinity, badRowKinds: [c.row] });
    }, respond);
  };

  test.each(cases)("$name: the window commits nothing and the error names the row and field", async (c) => {
    const watch = arm(c);
    const outcome = await syncLogged(db.url, sim, { windowMs: 5 * day, retries: 1 });
    expect(outcome.error?.code).toBe("API_RESPONSE_INVALID");
    expect(outcome.error!.message).toMatch(c.message);
    if (c.row && c.row !== "bad-uuid") {
      // The id named is a real row of the failed window.
      const id = /transaction ([0-9a-f-]{36}) has/.exec(outcome.error!.message)![1]!;
      const named = sim.ledger.get(id)!;
      expect(Date.parse(`${named.created_at}Z`) * 1000).toBeGreaterThanOrEqual(parseTimestamp(watch.armed()!)!);
    }
    // Nothing of the window: the watermark stops at its start, none of its rows are held.
    expect(await watermarkOf(db.url)).toBe(watch.armed());
    expect(await countRows(db.url, "created_at >= $1", [new Date(parseTimestamp(watch.armed()!)! / 1000)])).toBe(0);
    const [run] = await runs(db.url);
    expect(run).toMatchObject({ status: "failed", error_code: "API_RESPONSE_INVALID", windows_walked: 2 });
    expect(run!.error_message).toMatch(c.message);
    expect(`${outcome.log}${outcome.error!.message}${outcome.error!.stack}${JSON.stringify(run)}`).not.toContain(testToken);

    sim.resetFaults();
    const clean = await syncLogged(db.url, sim, { windowMs: 5 * day });
    if (clean.error) throw clean.error;
    await expectDatabaseEqualsLedger(db.url, sim);
  });

  test.each(cases.filter((c) => c.name === "an unknown status" || c.name === "an envelope without results"))(
    "through the CLI, $name: exit 1, the message on stderr, no token anywhere",
    async (c) => {
      arm(c);
      const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct", SYNC_WINDOW: "5d", SYNC_WINDOW_ROWS: "0", GENERECT_RETRIES: "0" };
      const result = await cli(["run"], env).done; // cli() fails the test if the token is printed
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/generect-sync run: error \[API_RESPONSE_INVALID\]: /);
      expect(result.stderr).toMatch(c.message);
      const status = await cli(["status", "--json"], env).done;
      expect(JSON.parse(status.stdout).runs[0]).toMatchObject({ status: "failed", error: expect.stringMatching(c.message) });
    },
  );
});
