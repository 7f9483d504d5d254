import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectRollupsEqualLedger } from "../helpers/rollups.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns, testToken, watermark } from "../helpers/sync.js";

describe("a run killed with SIGKILL mid-backfill", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("kill");
    sim = await seededSimulator(23, 4000, 200);
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_WINDOW: "10d",
      SYNC_CONCURRENCY: "2",
    };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("converges to the API's truth after three kills, with no duplicate and consistent versions", async () => {
    // Slow the pages down so each kill lands mid-window, at a different page count each time.
    sim.faults.beforePage = () => new Promise((resolve) => setTimeout(resolve, 15));
    for (const killAfterPages of [7, 19, 33]) {
      const start = sim.stats.requests;
      const run = spawnCli(["run"], env);
      await waitFor(() => sim.stats.requests - start >= killAfterPages, 30_000);
      run.child.kill("SIGKILL");
      const result = await run.done;
      expect(result.signal).toBe("SIGKILL");
    }
    const partial = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM transactions");
    expect(Number(partial[0]!.n)).toBeLessThan(sim.ledger.size);
    // Killed windows rolled back with their rollups: what committed is exactly the truth before the watermark.
    const held = (await watermark(db.url))!;
    await expectRollupsEqualLedger(
      db.url,
      sim.ledger.all().filter((r) => r.created_at < held),
      ["UTC", "Asia/Kolkata"],
    );

    sim.faults.beforePage = undefined;
    const final = await spawnCli(["run"], env).done;
    expect(final.stderr).not.toContain(testToken);
    expect(final.code).toBe(0);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["UTC", "Asia/Kolkata"]);

    const versions = await query<{ id: string; n: string }>(
      db.url,
      "SELECT id::text, count(*)::text AS n FROM transaction_versions GROUP BY id HAVING count(*) <> 1",
    );
    expect(versions).toEqual([]);
    const runs = await syncRuns(db.url);
    expect(runs.map((r) => r.status)).toEqual(["interrupted", "interrupted", "interrupted", "succeeded"]);
    expect(runs.slice(0, 3).every((r) => r.error_code === "ABANDONED" && r.finished_at !== null)).toBe(true);
    const committed = runs.reduce((sum, r) => sum + r.rows_inserted, 0);
    expect(committed).toBe(sim.ledger.size);
  }, 120_000);
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
