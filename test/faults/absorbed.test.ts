// Scenario 1: every fault alone, at a rate the retries absorb: the run succeeds, the database
// equals the simulator's ledger (every row, every field), and sync_runs tells the truth.
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import type { SimulatorFaults, SimulatorHandle } from "../../src/simulator/index.js";
import type { Millis } from "../../src/time.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { compareDatabaseWithLedger, expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { days, hours, ms } from "../helpers/time.js";
import { countRows, expectFirstRunTruthful, expectVersionsConsistent, sleep, syncLogged, testToken } from "./support.js";

interface Case {
  name: string;
  faults: Partial<SimulatorFaults>;
  /** Whether the client had to retry (sync_runs.retries > 0). */
  retried: boolean;
  /** Config overrides: e.g. a short request timeout for hangs. */
  config?: { requestTimeoutMs?: Millis; retries?: number };
  check?: (sim: SimulatorHandle, ms: number) => void;
}

// Rates are drawn from the simulator's seeded dice (default seed 7 here): the same requests meet the
// same faults on every run. Rows moving mid-walk are absorbed by walking the window again, up to 3
// walks: a rate that disturbs three walks of one window in a row is beyond that budget (see
// budget.test.ts), so that case pins a seed known to stay within it.
// 429 bursts are the exception to "the same requests meet the same faults": a burst throttles the
// next arrivals, whichever they are. A request alone in flight (a window's second and last page)
// meets a fresh draw every third attempt, so it runs out of 7 attempts when 3 draws in a row start
// bursts: 1 in 1,000 such requests, met under a loaded CI machine's arrival order. With 12 retries
// it takes 5 in a row (1 in 100,000).
const cases: Case[] = [
  {
    name: "latency 50 ms with 20 ms jitter",
    faults: { latencyMs: 50, jitterMs: 20 },
    retried: false,
    check: (_sim, ms) => expect(ms).toBeGreaterThanOrEqual(50),
  },
  { name: "429 at 10%, no Retry-After", faults: { throttleRate: 0.1 }, retried: true },
  {
    name: "429 at 5% with Retry-After: 1 (honoured)",
    faults: { throttleRate: 0.05, retryAfterSeconds: 1 },
    retried: true,
    check: (_sim, ms) => expect(ms).toBeGreaterThanOrEqual(1000),
  },
  {
    name: "429 bursts of 3 at 10% with Retry-After: 0",
    faults: { throttleRate: 0.1, throttleBurst: 3, retryAfterSeconds: 0 },
    retried: true,
    config: { retries: 12 },
  },
  { name: "a burst of the next 4 requests throttled", faults: { throttleNext: 4 }, retried: true },
  { name: "500/502/503 at 10%", faults: { failRate: 0.1 }, retried: true },
  { name: "the next 3 requests answer 503", faults: { failNext: 3, failStatuses: [503] }, retried: true },
  {
    name: "responses that hang past the client timeout at 10%",
    faults: { hangRate: 0.1, seed: 2 },
    retried: true,
    config: { requestTimeoutMs: ms(300) },
  },
  { name: "connections reset mid-body at 10%", faults: { resetRate: 0.1 }, retried: true },
  { name: "truncated JSON at 10%", faults: { truncateRate: 0.1 }, retried: true },
  { name: "non-JSON 200 bodies at 15%", faults: { invalidJsonRate: 0.15 }, retried: true },
  { name: "a count that changes between pages at 10%", faults: { countDriftRate: 0.1 }, retried: false },
  // The count is evidence of nothing when two complete walks returned the same ids (issue #14).
  { name: "a count wrong by 1 to 3 on every page", faults: { countDriftRate: 1 }, retried: false },
  {
    name: "rows inserted and deleted inside the window being walked at 10%",
    faults: { churnRate: 0.1, churnKinds: ["insert", "delete"], seed: 5 },
    retried: false,
  },
];

describe("faults the retries absorb", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-absorbed");
    // 1,200 rows over 30 days: six 5-day windows of two pages and a count each, ~20 requests.
    sim = await seededSimulator(101, 1200, 30, { faults: { seed: 7 } });
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each(cases)("$name: the run succeeds and the database equals the ledger", async ({ faults, retried, config, check }) => {
    Object.assign(sim.faults, faults);
    const outcome = await syncLogged(db.url, sim, { windowMs: days(5), ...config });
    if (outcome.error) throw outcome.error;
    const injected = Object.values(sim.stats.injected).reduce((a, b) => a + (b ?? 0), 0);
    expect(injected).toBeGreaterThan(0); // the fault really happened
    sim.resetFaults(); // the comparison reads the ledger, not the API
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    const [run] = await syncRuns(db.url);
    await expectFirstRunTruthful(db.url, run!, outcome.summary);
    if (retried) expect(run!.retries).toBeGreaterThan(0);
    else expect(run!.retries).toBe(0);
    expect(outcome.log).not.toContain(testToken);
    check?.(sim, outcome.ms);
  });

  test("rows updated inside the window being walked: caught at once when read after the update, else by the next run's lookback", async () => {
    // All rows within the last 20 hours, so the default 24 h lookback re-reads all of them.
    await sim.close();
    sim = await seededSimulator(102, 600, 20 / 24, { faults: { seed: 8, churnRate: 0.15, churnKinds: ["update"] } });
    const first = await syncLogged(db.url, sim, { windowMs: hours(2) });
    if (first.error) throw first.error;
    const updates = sim.stats.injected.churnUpdate ?? 0;
    expect(updates).toBeGreaterThan(0);
    sim.resetFaults();
    // An update that lands on a page already read is not visible to this walk (count and ids do
    // not move): at most those rows differ, by updated_at/status only.
    const diff = await compareDatabaseWithLedger(db.url, "acct", sim.ledger);
    expect(diff.missing).toEqual([]);
    expect(diff.unexpected).toEqual([]);
    expect(diff.different.size).toBeLessThanOrEqual(updates);
    for (const fields of diff.different.values()) {
      expect(Object.keys(fields).every((f) => /^(raw|updated_at|status)$/.test(f))).toBe(true);
    }
    const second = await syncLogged(db.url, sim);
    if (second.error) throw second.error;
    expect(second.summary!.updated).toBe(diff.different.size);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    expect((await syncRuns(db.url)).map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
  });

  test("an API clock 2 s ahead and one 10 min behind, with rows arriving during the runs: nothing is lost", async () => {
    for (const offsetMs of [2_000, -600_000]) {
      sim.resetFaults();
      Object.assign(sim.faults, { clockOffsetMs: offsetMs, arrivalRate: 0.3, seed: offsetMs });
      for (let i = 0; i < 2; i++) {
        const outcome = await syncLogged(db.url, sim, { windowMs: days(7) });
        if (outcome.error) throw outcome.error;
      }
      expect(sim.stats.injected.arrival ?? 0).toBeGreaterThan(0);
      const newest = sim.ledger.all()[0]!;
      if (offsetMs > 0) expect(Date.parse(`${newest.created_at}Z`)).toBeGreaterThan(Date.now()); // created "in the future"
      sim.faults.arrivalRate = 0;
      // A row stamped ahead of the job's clock is fetched by the first run that starts after that instant.
      await sleep(Math.max(0, offsetMs) + 100);
      const last = await syncLogged(db.url, sim, { windowMs: days(7) });
      if (last.error) throw last.error;
      sim.resetFaults();
      await expectDatabaseEqualsLedger(db.url, sim);
    }
    await expectVersionsConsistent(db.url);
    expect((await syncRuns(db.url)).every((r) => r.status === "succeeded")).toBe(true);
  });
});

describe("an insert and a delete in one walk", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-balanced");
    sim = await seededSimulator(103, 350, 5); // one window of four pages
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  // Pages are read one at a time (concurrency 1). Before page 2: a row of page 1 (already read) is
  // deleted, shifting every later row up by one, so the first row of page 2 slides into page 1 and
  // is skipped. Before page 3: a row is inserted further down (it will be read). The counts before
  // and after the walk are equal, and so is the number of distinct ids: only page 2's count (one
  // less) tells that the walk saw a moving list.
  test("at different page reads: the moving count is seen, the window is walked again, nothing is lost", async () => {
    const all = sim.ledger.all();
    const skipped = all[100]!;
    let step = 0;
    sim.faults.beforePage = ({ offset, query }) => {
      if (!query.has("created_at__gte") || step >= 2) return;
      if (offset === 100 && step === 0) {
        step = 1;
        sim.ledger.remove(all[10]!.id);
      } else if (offset === 200 && step === 1) {
        step = 2;
        const at = Date.parse(`${all[300]!.created_at}Z`) + 1;
        sim.ledger.add({ created_at: new Date(at), amount: "-0.25" });
      }
    };
    const outcome = await syncLogged(db.url, sim, { windowMs: days(30), concurrency: 1 });
    if (outcome.error) throw outcome.error;
    expect(step).toBe(2);
    await expectDatabaseEqualsLedger(db.url, sim);
    expect(await countRows(db.url, "id = $1 AND deleted_at IS NULL", [skipped.id])).toBe(1);
    await expectVersionsConsistent(db.url);
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({ status: "succeeded", rows_deleted: 1 });
  });

  // The same two changes between the same two page reads leave every count equal, at every page:
  // no count can tell, and the row that slid into page 1 is not received by this walk. This is the
  // limit of limit/offset paging without a snapshot; the next run whose lookback covers the
  // window reads it again and converges (recent windows: the default 24 h lookback).
  test("between the same two page reads: undetectable by counts, caught by the next run's lookback", async () => {
    const all = sim.ledger.all();
    let done = false;
    sim.faults.beforePage = ({ offset, query }) => {
      if (!query.has("created_at__gte") || done || offset !== 100) return;
      done = true;
      sim.ledger.remove(all[10]!.id);
      sim.ledger.add({ created_at: new Date(Date.parse(`${all[300]!.created_at}Z`) + 1), amount: "-0.25" });
    };
    const first = await syncLogged(db.url, sim, { windowMs: days(30), concurrency: 1 });
    if (first.error) throw first.error;
    sim.faults.beforePage = undefined;
    const diff = await compareDatabaseWithLedger(db.url, "acct", sim.ledger);
    expect(diff.missing).toEqual([all[100]!.id]);
    expect(diff.unexpected).toEqual([all[10]!.id]);
    // The window is older than the default 24 h lookback: a run with a lookback covering it.
    const second = await syncLogged(db.url, sim, { windowMs: days(30), concurrency: 1, lookbackMs: days(10) });
    if (second.error) throw second.error;
    expect(second.summary).toMatchObject({ inserted: 1, deleted: 1 });
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
  });
});
