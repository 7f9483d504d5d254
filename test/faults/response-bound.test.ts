// Scenario 11: response bodies past the documented bound (GENERECT_MAX_RESPONSE_BYTES, 16 MiB by
// default). A 200 whose body never ends used to be buffered until the heap gave out (SIGABRT, the
// run left `running`); a body announced or grown past the bound is now a request error, not
// retried, and the run ends like any failed run. The job is the real CLI.
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { describeDifference } from "../../src/proofs/against-ledger.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/time.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { compareDatabaseWithLedger, expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { armAtWindow, cli, expectVersionsConsistent, fixedWindowsEnv, guardCliOutput, watermarkOf } from "./support.js";

guardCliOutput();

const cases = [
  {
    name: "a 200 whose body never ends, against the default bound",
    arm: (sim: SimulatorHandle) => {
      sim.faults.endlessBodyNext = 1;
    },
    env: {},
    bound: 16 * 1024 * 1024,
    injected: "endlessBody" as const,
  },
  {
    name: "a 200 announcing 2 MB, against GENERECT_MAX_RESPONSE_BYTES=1000000",
    arm: (sim: SimulatorHandle) => Object.assign(sim.faults, { oversizeBodyNext: 1, oversizeBodyBytes: 2_000_000 }),
    env: { GENERECT_MAX_RESPONSE_BYTES: "1000000" },
    bound: 1_000_000,
    injected: "oversizeBody" as const,
  },
];

describe("response bodies past the bound", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-body-bound");
    sim = await seededSimulator(1201, 900, 30);
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each(cases)(
    "$name: the run fails as API_RESPONSE_TOO_LARGE, recorded, and the next run converges",
    async ({ arm, env: extra, bound, injected }) => {
      const watch = armAtWindow(sim, 3, () => arm(sim));
      const env = fixedWindowsEnv(db.url, sim, "5d", extra);
      const started = Date.now();
      const failed = await cli(["run"], env).done;
      const ms = Date.now() - started;
      expect(sim.stats.injected[injected]).toBe(1);
      expect({ code: failed.code, signal: failed.signal }).toEqual({ code: 1, signal: null });
      expect(failed.stderr).toMatch(
        new RegExp(
          `generect-sync run: error \\[API_RESPONSE_TOO_LARGE\\]: API response to GET /api/auth/transactions/\\?\\S+ exceeded ${bound} bytes \\(GENERECT_MAX_RESPONSE_BYTES\\)`,
        ),
      );
      expect(ms).toBeLessThan(30_000); // well inside the request timeout: cut at the bound, not timed out

      // The fault met the third window's first request, or the second window's last if it came first
      // (the next window's walk starts under the current one's tail).
      expect(watch.armed()).toBeDefined();
      const mark = await watermarkOf(db.url);
      expect(watch.windows.slice(1, 3)).toContain(mark);
      const before = parseTimestamp(mark!)! / 1000;
      const committed = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) < before);
      expect(describeDifference(await compareDatabaseWithLedger(db.url, "acct", committed))).toBe(`equal: ${committed.length} rows`);

      const [run, ...others] = await syncRuns(db.url);
      expect(others).toEqual([]);
      expect(run).toMatchObject({
        status: "failed",
        error_code: "API_RESPONSE_TOO_LARGE",
        windows_walked: watch.windows.indexOf(mark!),
        rows_inserted: committed.length,
        retries: 0,
      });
      expect(run!.finished_at).not.toBeNull();
      expect(run!.error_message).toMatch(/exceeded \d+ bytes/);

      sim.resetFaults();
      const clean = await cli(["run"], env).done;
      expect(clean.code).toBe(0);
      await expectDatabaseEqualsLedger(db.url, sim);
      await expectVersionsConsistent(db.url);
      const [, second] = await syncRuns(db.url);
      expect(second).toMatchObject({ status: "succeeded", error_code: null, rows_inserted: sim.ledger.size - committed.length });
      expect(second!.finished_at).not.toBeNull();
    },
    90_000,
  );
});
