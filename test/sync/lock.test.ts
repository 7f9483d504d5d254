import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { InterruptedError, type SyncError } from "../../src/errors.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { syncLogged } from "../faults/support.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
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

  test("a run stopped at any point, its lock being taken included, leaves no lock held and no run running", async () => {
    // p-retry rejects with the abort's reason when the signal aborts while an attempt runs, even if
    // the attempt took the lock: the lock was then dropped, held by its connection until the process
    // ended (1 to 5 ms after the start on this machine). In-process, the next run found it held.
    const held = `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                  WHERE l.locktype = 'advisory' AND d.datname = current_database()`;
    const outcomes = new Set<string>();
    for (let delayMs = 0; delayMs < 12; delayMs++) {
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(new InterruptedError("SIGTERM")), delayMs);
      const outcome = await syncLogged(db.url, sim, { account: `stopped-${delayMs}` }, { signal: stop.signal });
      clearTimeout(timer);
      outcomes.add((outcome.error as SyncError | undefined)?.code ?? "succeeded");
      const [locks] = await query<{ n: number }>(db.url, held);
      expect([delayMs, locks!.n]).toEqual([delayMs, 0]);
    }
    expect(outcomes).toContain("INTERRUPTED");
    const running = (await syncRuns(db.url)).filter((r) => r.status === "running");
    expect(running).toEqual([]);
  });
});
