import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { seededSimulator, syncRuns, testToken } from "../helpers/sync.js";

describe("the account lock", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("lock");
    sim = await seededSimulator(5, 600, 30, { to: new Date() });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("a second run for the same account exits at once with code 75, touching nothing", async () => {
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let parked = false;
    sim.faults.beforePage = () => {
      if (parked) return;
      parked = true;
      return held; // the first run parks on its first page; later requests pass
    };
    const first = spawnCli(["run"], env);
    const deadline = Date.now() + 20_000;
    while ((await syncRuns(db.url)).length === 0 || !parked) {
      if (Date.now() > deadline) throw new Error(`first run did not start: ${first.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const requestsBefore = sim.stats.requests;

    const second = await runCli(["run"], env);
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/another generect-sync run holds the lock for account "acct" \(run #\d+/);
    expect(sim.stats.requests).toBe(requestsBefore);
    expect((await syncRuns(db.url)).length).toBe(1);

    // Another account is not blocked by it.
    const other = await runCli(["run"], { ...env, SYNC_ACCOUNT: "other", SYNC_START: new Date().toISOString().slice(0, 10) });
    expect(other.code).toBe(0);

    release();
    sim.faults.beforePage = undefined;
    const firstResult = await first.done;
    expect(firstResult.code).toBe(0);
    expect((await syncRuns(db.url)).map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
  }, 60_000);
});
