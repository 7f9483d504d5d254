// Scenario 6: two, then five, `run`s of one account started together (child processes): exactly
// one works (exit 0), the others exit 75 with the lock message having touched nothing; nothing is
// doubled (the table equals the ledger, one succeeded sync_runs row per working run).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { cli, expectVersionsConsistent, guardCliOutput, testToken, waitFor } from "./support.js";

guardCliOutput();

describe("concurrent runs of one account", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("faults-concurrent");
    sim = await seededSimulator(601, 1500, 30, { faults: { latencyMs: 20 } });
    // SYNC_LOOKBACK 60d: the second round re-walks everything too, so it lasts as long.
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_WINDOW: "10d",
      SYNC_LOOKBACK: "60d",
    };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each([2, 5])(
    "%i runs started together: one works, the others exit 75 and touch nothing",
    async (n) => {
      const before = await syncRuns(db.url);
      const requestsBefore = sim.stats.requests;
      // The run that holds the lock parks on its first page until the n - 1 others have exited, so
      // "started together" holds however slowly a loaded machine starts the processes.
      let exited = 0;
      let parked = false;
      sim.faults.beforePage = async () => {
        if (parked) return;
        parked = true;
        await waitFor(() => exited >= n - 1, 60_000, "the other runs to exit").catch(() => {});
      };
      const results = await Promise.all(Array.from({ length: n }, () => cli(["run"], env).done.finally(() => exited++)));
      sim.faults.beforePage = undefined;
      const codes = results.map((r) => r.code).sort();
      expect(codes).toEqual([0, ...Array(n - 1).fill(75)]);
      for (const loser of results.filter((r) => r.code === 75)) {
        // The holder is named when its sync_runs row exists already (the winner takes the lock first).
        expect(loser.stderr).toMatch(
          /another generect-sync run holds the lock for account "acct"( \(run #\d+, started .* pid \d+\))?; nothing was done/,
        );
        expect(loser.stdout).toBe("");
      }
      const after = await syncRuns(db.url);
      expect(after).toHaveLength(before.length + 1);
      expect(after.map((r) => r.status)).toEqual(Array(before.length + 1).fill("succeeded"));
      // Every API request was the working run's.
      expect(sim.stats.requests - requestsBefore).toBe(after.at(-1)!.api_requests);
      await expectDatabaseEqualsLedger(db.url, sim);
      await expectVersionsConsistent(db.url);
      const inserted = after.reduce((sum, r) => sum + r.rows_inserted, 0);
      expect(inserted).toBe(sim.ledger.size);
    },
    90_000,
  );
});
