// Scenario 12: a test-mode key. Keys that start with `test_` answer in test mode and mark every
// answer `X-Generect-Mode: test`; their data is not the account's ledger (NOTES.md), and the
// simulator does the same. The run stops at the first answer, before writing anything, with a
// clear message and exit 2; the run is recorded as such. The same ledger behind the live key then
// syncs in full. The job is the real CLI.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, startTestSimulator, syncRuns } from "../helpers/sync.js";
import { cli, expectFirstRunTruthful, expectVersionsConsistent, guardCliOutput, registerSecret, testToken } from "./support.js";

guardCliOutput();

const testKey = "test_5b0e93c1d7a24f68";
registerSecret(testKey);

describe("a test-mode key", () => {
  let db: TestDatabase;
  let live: SimulatorHandle;
  let testMode: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("faults-test-mode");
    live = await seededSimulator(1301, 600, 20);
    testMode = await startTestSimulator({ token: testKey, ledger: live.ledger });
  });
  afterAll(async () => {
    await testMode?.close();
    await live?.close();
    await db?.drop();
  });

  test("the simulator marks a test_ key's answers, and only those", async () => {
    const path = "/api/auth/transactions/?limit=1";
    const marked = await fetch(`${testMode.url}${path}`, { headers: { authorization: `Token ${testKey}` } });
    const plain = await fetch(`${live.url}${path}`, { headers: { authorization: `Token ${testToken}` } });
    expect([marked.status, marked.headers.get("x-generect-mode")]).toEqual([200, "test"]);
    expect([plain.status, plain.headers.get("x-generect-mode")]).toEqual([200, null]);
  });

  test("run with it: exit 2 and a clear message, nothing written, the run recorded; the live key then syncs the ledger", async () => {
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: testMode.url, GENERECT_API_TOKEN: testKey, SYNC_ACCOUNT: "acct" };
    const before = testMode.stats.requests;
    const result = await cli(["run"], env).done;
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /generect-sync run: error \[API_TEST_MODE\]: the API answered in test mode \(X-Generect-Mode: test\): GENERECT_API_TOKEN is a test key, whose data is not the account's ledger\. Nothing was written/,
    );
    expect(testMode.stats.requests - before).toBe(1); // stopped at the first answer, not retried

    for (const table of ["transactions", "transaction_versions", "sync_state", "spent_credit_snapshots", "spent_credit_captures"]) {
      expect([table, await query(db.url, `SELECT count(*)::int AS n FROM ${table}`)]).toEqual([table, [{ n: 0 }]]);
    }
    const [run, ...others] = await syncRuns(db.url);
    expect(others).toEqual([]);
    expect(run).toMatchObject({
      status: "failed",
      error_code: "API_TEST_MODE",
      windows_walked: 0,
      rows_seen: 0,
      api_requests: 1,
      retries: 0,
    });
    expect(run!.finished_at).not.toBeNull();
    expect(run!.error_message).toMatch(/test mode/);

    const ok = await cli(["run"], { ...env, GENERECT_API_URL: live.url, GENERECT_API_TOKEN: testToken }).done;
    expect(ok.code).toBe(0);
    await expectDatabaseEqualsLedger(db.url, live);
    await expectVersionsConsistent(db.url);
    const all = await syncRuns(db.url);
    expect(all).toHaveLength(2);
    await expectFirstRunTruthful(db.url, all[1]!);
    expect(all[1]!.rows_inserted).toBe(live.ledger.size);
  }, 60_000);
});
