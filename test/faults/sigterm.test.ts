// Scenario 5: SIGTERM mid-run (what Kubernetes sends before its 30 s grace period ends): exit code
// 143 well inside the grace period, the run marked `interrupted` with finished_at set, and the next
// run converges. Once with pages in flight, once with a request hanging on a 30 s timeout.
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { cli, countRows, expectVersionsConsistent, fixedWindowsEnv, guardCliOutput, waitFor, watermarkOf } from "./support.js";

guardCliOutput();

describe("SIGTERM mid-run", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-sigterm");
    sim = await seededSimulator(501, 2000, 100, { faults: { latencyMs: 40 } });
    env = fixedWindowsEnv(db.url, sim, "5d");
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each([
    ["with pages in flight", false],
    ["while a request hangs (GENERECT_TIMEOUT 30s)", true],
  ])(
    "%s: exit 143 in well under the grace period, run interrupted, next run converges",
    async (_name, hang) => {
      const run = cli(["run"], { ...env, GENERECT_TIMEOUT: "30s" });
      // Let a few windows commit first.
      await waitFor(async () => (await watermarkOf(db.url)) !== undefined && sim.stats.requests >= 12, 30_000, "a few committed windows");
      if (hang) {
        sim.faults.hangNext = 1_000; // every request from now on hangs for 120 s
        const before = sim.stats.injected.hang ?? 0;
        await waitFor(() => (sim.stats.injected.hang ?? 0) > before, 10_000, "a hanging request");
      }
      const sent = Date.now();
      run.child.kill("SIGTERM");
      const result = await run.done;
      const tookMs = Date.now() - sent;
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 143, signal: null });
      expect(tookMs).toBeLessThan(5_000);
      expect(result.stderr).toMatch(/error \[INTERRUPTED\]: stopped by SIGTERM/);

      const [stopped] = await syncRuns(db.url);
      expect(stopped).toMatchObject({ status: "interrupted", error_code: "INTERRUPTED", error_message: "stopped by SIGTERM" });
      expect(stopped!.finished_at).not.toBeNull();
      // The window in hand was rolled back: the run's counters are exactly what it committed.
      expect(stopped!.rows_inserted).toBe(await countRows(db.url));
      expect(stopped!.rows_inserted).toBeLessThan(sim.ledger.size);

      sim.resetFaults();
      const next = await cli(["run"], env).done;
      expect(next.code).toBe(0);
      await expectDatabaseEqualsLedger(db.url, sim);
      await expectVersionsConsistent(db.url);
      expect((await syncRuns(db.url)).map((r) => r.status)).toEqual(["interrupted", "succeeded"]);
    },
    60_000,
  );
});
