import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { runSync } from "../../src/job/run.js";
import { JsonNumber, type SimulatorHandle } from "../../src/simulator/index.js";
import { runCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import {
  expectDatabaseEqualsLedger,
  LogCapture,
  seededSimulator,
  syncOnce,
  syncRuns,
  testConfig,
  testToken,
  watermark,
} from "../helpers/sync.js";
import { days } from "../helpers/time.js";

describe("guards", () => {
  let sim: SimulatorHandle;
  let db: TestDatabase;

  beforeAll(async () => {
    sim = await seededSimulator(3, 900, 40);
  });
  beforeEach(async () => {
    db = await createMigratedDatabase("guards");
    sim.faults.ignoreFilters = false;
    sim.faults.transformRow = undefined;
  });
  afterEach(async () => {
    await db?.drop(); // each test has its own database
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("a server that ignores the created_at filter fails the run and advances nothing", async () => {
    sim.faults.ignoreFilters = true;
    const env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_START: "2020-01-01",
    };
    const result = await runCli(["run"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\[API_FILTER_IGNORED\].*outside the requested window .*the server ignored the created_at filter/);
    expect(await watermark(db.url)).toBeUndefined();
    expect(await query(db.url, "SELECT 1 FROM transactions")).toEqual([]);
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({ status: "failed", error_code: "API_FILTER_IGNORED", windows_walked: 0, rows_inserted: 0 });
  });

  test("a row that cannot be a transaction is quarantined, its window commits, and the token stays out", async () => {
    const victim = sim.ledger.all()[150]!;
    sim.faults.transformRow = (row) => (row.id === victim.id ? { ...row, amount: String(row.amount) } : row);
    const capture = new LogCapture();
    const summary = await runSync({
      config: testConfig(sim, { windowMs: days(5) }),
      databaseUrl: db.url,
      log: capture.logger,
      clientOptions: { minRetryDelayMs: 1, maxRetryDelayMs: 2 },
    });
    expect(summary).toMatchObject({ rejected: 1, inserted: sim.ledger.size - 1 });
    expect(await query(db.url, "SELECT 1 FROM transactions WHERE id = $1", [victim.id])).toEqual([]);
    const [entry] = await query<{ transaction_id: string; reason_code: string; reason: string }>(
      db.url,
      "SELECT transaction_id::text, reason_code, reason FROM quarantined_rows",
    );
    expect(entry).toMatchObject({ transaction_id: victim.id, reason_code: "BAD_AMOUNT" });
    expect(entry!.reason).toContain(
      `transaction ${victim.id} has an invalid field "amount": expected a JSON number, got string "${victim.amount}"`,
    );
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({ status: "succeeded", rows_rejected: 1 });
    expect(new Date(`${await watermark(db.url)}Z`).getTime()).toBeGreaterThan(Date.parse(`${sim.ledger.all()[0]!.created_at}Z`));
    expect(capture.text).not.toContain(testToken);
    expect(JSON.stringify(run)).not.toContain(testToken);

    // Once the API sends the row properly, the next run re-reading it converges and resolves the entry.
    sim.faults.transformRow = undefined;
    await syncOnce(db.url, sim, { windowMs: days(5), lookbackMs: days(60) });
    await expectDatabaseEqualsLedger(db.url, sim);
    const [resolved] = await query<{ resolved: boolean }>(db.url, "SELECT resolved_at IS NOT NULL AS resolved FROM quarantined_rows");
    expect(resolved).toEqual({ resolved: true });
  });

  test("a wrong token is reported in plain words and not retried", async () => {
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: "wrong-token-123456", SYNC_ACCOUNT: "acct" };
    const before = sim.stats.requests;
    const result = await runCli(["run"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("API token rejected (403");
    expect(result.stderr).not.toContain("wrong-token-123456");
    // The users/me checkpoint is refused and recorded missing (it never fails a run); the first
    // transactions page is refused and fails it: one request each, neither retried.
    expect(sim.stats.requests - before).toBe(2);
  });
});

void JsonNumber;
