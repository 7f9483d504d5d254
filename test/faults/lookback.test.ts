// Scenario 7: rows that change behind the watermark. Inside SYNC_LOOKBACK an incremental run
// catches them; outside it, it does not (the documented limit), and one run with a larger
// SYNC_LOOKBACK (what the README tells users to do) catches them all. The same holds for an API
// clock behind the job's by more than the lookback.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { compareDatabaseWithLedger, expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { dayMs, days, hourMs } from "../helpers/time.js";
import { cli, expectVersionsConsistent, guardCliOutput, syncLogged, testToken } from "./support.js";

guardCliOutput();

describe("changes behind the watermark", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("faults-lookback");
    sim = await seededSimulator(701, 1000, 40);
    const first = await syncLogged(db.url, sim, { windowMs: days(10) });
    if (first.error) throw first.error;
    await expectDatabaseEqualsLedger(db.url, sim);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  const ageOf = (createdAt: string) => Date.now() - Date.parse(`${createdAt}Z`);

  test("inside the lookback they are caught; outside it they are not; a larger SYNC_LOOKBACK catches them", async () => {
    const rows = sim.ledger.all();
    const recent = rows.filter((r) => ageOf(r.created_at) < 20 * hourMs);
    const old = rows.filter((r) => ageOf(r.created_at) > 5 * dayMs && ageOf(r.created_at) < 30 * dayMs);
    expect(recent.length).toBeGreaterThanOrEqual(2);
    // Inside the 24 h lookback: an update, a delete, a late row.
    const updatedInside = sim.ledger.update(recent[0]!.id, { status: "error" });
    sim.ledger.remove(recent[1]!.id);
    const lateInside = sim.ledger.add({ created_at: new Date(Date.now() - 6 * hourMs), amount: "-3" });
    // Outside it: the same three, 5 to 30 days back.
    const updatedOutside = sim.ledger.update(old[0]!.id, { status: "error", description: "reversed after an audit" });
    const deletedOutside = old[1]!;
    sim.ledger.remove(deletedOutside.id);
    const lateOutside = sim.ledger.add({ created_at: new Date(Date.now() - 10 * dayMs), amount: "-7" });

    const incremental = await syncLogged(db.url, sim);
    if (incremental.error) throw incremental.error;
    expect(incremental.summary).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });

    // Exactly the three changes outside the lookback are missed, and nothing else.
    const diff = await compareDatabaseWithLedger(db.url, "acct", sim.ledger);
    expect(diff.missing).toEqual([lateOutside.id]);
    expect(diff.unexpected).toEqual([deletedOutside.id]);
    expect([...diff.different.keys()]).toEqual([updatedOutside.id]);
    const [inside] = await query<{ status: string }>(db.url, "SELECT status FROM transactions WHERE id = $1", [updatedInside.id]);
    expect(inside!.status).toBe("error");
    const [late] = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM transactions WHERE id = $1", [lateInside.id]);
    expect(late!.n).toBe("1");

    // One run with a larger lookback, through the CLI and its environment variable.
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
    const sweep = await cli(["run"], { ...env, SYNC_LOOKBACK: "45d" }).done;
    expect(sweep.code).toBe(0);
    expect(sweep.stdout).toMatch(/\(1 inserted, 1 updated, \d+ unchanged, 1 deleted\)/);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    expect((await syncRuns(db.url)).map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
  }, 60_000);

  test("an API clock behind the job's by more than the lookback loses new rows to incremental runs; a larger lookback finds them", async () => {
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
    sim.faults.clockOffsetMs = -2 * hourMs; // the API stamps rows two hours in the past
    const behind = sim.ledger.add({ amount: "-1.5" });
    sim.faults.clockOffsetMs = 0;
    expect(ageOf(behind.created_at)).toBeGreaterThan(hourMs);
    const short = await cli(["run"], { ...env, SYNC_LOOKBACK: "1h" }).done;
    expect(short.code).toBe(0);
    expect((await compareDatabaseWithLedger(db.url, "acct", sim.ledger)).missing).toEqual([behind.id]);
    const wider = await cli(["run"], { ...env, SYNC_LOOKBACK: "3h" }).done;
    expect(wider.code).toBe(0);
    await expectDatabaseEqualsLedger(db.url, sim);
  }, 60_000);
});
