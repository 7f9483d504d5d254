// Scenario 4: SIGKILL at random (seeded) points of a multi-window backfill, many times in a row, then
// a run to completion: no row missing, none duplicated, versions consistent, killed runs marked
// `interrupted`. The real CLI in child processes. 20 kills by default; GENERECT_SOAK=1 runs 50
// rounds of 20 (1,000 kills; GENERECT_SOAK_KILLS=N for another total), each round on a fresh
// database.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { mulberry32 } from "../../src/simulator/prng.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { hourMs } from "../helpers/time.js";
import { cli, expectVersionsConsistent, fixedWindowsEnv, guardCliOutput, sleep, soak, waitFor } from "./support.js";

guardCliOutput();

const killsPerRound = 20;
const totalKills = soak ? Number(process.env.GENERECT_SOAK_KILLS ?? 1000) : killsPerRound;
const rounds = Math.max(1, Math.ceil(totalKills / killsPerRound));

describe("SIGKILL at random points of a backfill", () => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    // 3,000 rows over 200 days, 1-day windows: 200 windows, two requests each; 5-20 ms a request.
    sim = await seededSimulator(401, 3000, 200, { faults: { latencyMs: 5, jitterMs: 15 } });
  });
  afterAll(async () => {
    await sim?.close();
  });

  test(
    `${totalKills} kills (${rounds} round(s) of ${killsPerRound}), then a run to completion, converge`,
    async () => {
      const rng = mulberry32(4242);
      for (let round = 0; round < rounds; round++) {
        const db: TestDatabase = await createMigratedDatabase("faults-sigkill");
        try {
          const env = fixedWindowsEnv(db.url, sim, "1d", { SYNC_CONCURRENCY: "2", LOG_LEVEL: "warn" });
          const killed = new Map<number, string>(); // pid -> where it was killed
          const finishedOk: number[] = [];
          for (let k = 0; k < killsPerRound; k++) {
            // Between kills the ledger moves a little inside the lookback: new rows, a settled pending one.
            if (rng() < 0.5) sim.ledger.add({ created_at: new Date(Date.now() - Math.floor(rng() * 12 * hourMs)), amount: "-0.05" });
            const recent = sim.ledger.all().slice(0, 20);
            const victim = recent[Math.floor(rng() * recent.length)]!;
            if (rng() < 0.3) sim.ledger.update(victim.id, { description: `${victim.description.replace(/ #\d+$/, "")} #${k}` });

            const before = sim.stats.requests;
            const run = cli(["run"], env);
            // Half the kills after a number of API requests, half after a delay from the start
            // (which also lands in start-up, locking, planning and commits).
            const byRequests = rng() < 0.5;
            const requests = 1 + Math.floor(rng() * 30);
            const delayMs = 300 + Math.floor(rng() * 900);
            const where = byRequests ? `after ${requests} requests` : `after ${delayMs} ms`;
            let exited = false;
            void run.done.then(
              () => (exited = true),
              () => (exited = true),
            );
            if (byRequests) {
              await waitFor(() => exited || sim.stats.requests - before >= requests, 30_000, "requests");
            } else {
              await Promise.race([sleep(delayMs), run.done.catch(() => {})]);
            }
            run.child.kill("SIGKILL");
            const result = await run.done;
            if (result.signal === "SIGKILL") killed.set(run.child.pid!, where);
            else if (result.code === 0) finishedOk.push(run.child.pid!);
            // 75: the previous victim's lock was not yet released by the server; it touched nothing.
            else expect({ code: result.code, where, stderr: result.stderr }).toMatchObject({ code: 75 });
          }
          const partial = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM transactions");
          if (round === 0) expect(Number(partial[0]!.n)).toBeLessThan(sim.ledger.size);

          // The run to completion (retried if the last victim's lock is still being released).
          let final = await cli(["run"], env).done;
          for (let attempt = 0; final.code === 75 && attempt < 20; attempt++) {
            await sleep(100);
            final = await cli(["run"], env).done;
          }
          expect({ code: final.code, stderr: final.code === 0 ? "" : final.stderr }).toEqual({ code: 0, stderr: "" });

          await expectDatabaseEqualsLedger(db.url, sim);
          const duplicates = await query(db.url, "SELECT id::text FROM transactions GROUP BY id HAVING count(*) > 1");
          expect(duplicates).toEqual([]);
          await expectVersionsConsistent(db.url);

          const all = await syncRuns(db.url);
          expect(all.filter((r) => r.status === "running")).toEqual([]);
          expect(all.at(-1)!.status).toBe("succeeded");
          for (const r of all.slice(0, -1)) {
            if (killed.has(r.pid!)) {
              expect({ pid: r.pid, status: r.status, code: r.error_code, finished: r.finished_at !== null }).toEqual({
                pid: r.pid,
                status: "interrupted",
                code: "ABANDONED",
                finished: true,
              });
            } else {
              expect(finishedOk).toContain(r.pid); // a run the kill came too late for
              expect(r.status).toBe("succeeded");
            }
          }
          // Only runs that got as far as opening their row have one; each of those was killed or finished.
          expect(all.length - 1).toBeLessThanOrEqual(killed.size + finishedOk.length);
        } finally {
          await db.drop();
        }
      }
    },
    60_000 + rounds * 90_000,
  );
});
