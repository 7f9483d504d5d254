// Row-sized windows (SYNC_WINDOW_ROWS, the job's default): spans follow the ledger's density, and
// the database still equals the ledger, through dense bursts that force splits, empty stretches and
// faults mid-walk.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { runSync } from "../../src/job/run.js";
import { Ledger, type SimulatorFaults, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { historyFloor } from "../../src/sync/first-run.js";
import type { WindowStats } from "../../src/sync/window.js";
import { expectFirstRunTruthful, expectVersionsConsistent, syncLogged } from "../faults/support.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectRollupsEqualLedger } from "../helpers/rollups.js";
import { expectDatabaseEqualsLedger, LogCapture, seededSimulator, startTestSimulator, syncRuns, testSyncOptions } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

const target = 300;
const maxRowsPerWindow = 900;

/** A backfill of `sim` into `db`, keeping every committed window's stats and the log. */
async function backfill(db: TestDatabase, sim: SimulatorHandle, windowRows: number) {
  const committed: WindowStats[] = [];
  const log = new LogCapture();
  const progress = { planned() {}, page() {}, window: (stats: WindowStats) => void committed.push(stats) };
  const summary = await runSync(
    testSyncOptions(db.url, sim, log.logger, { windowMs: days(1), windowRows }, { maxRowsPerWindow, progress }),
  );
  return { summary, committed, log: log.text };
}

describe("row-sized windows", () => {
  let sim: SimulatorHandle;
  let adaptive: TestDatabase;
  let fixed: TestDatabase;
  const to = new Date(Date.now() - 60_000);

  beforeAll(async () => {
    // 400 days of sparse history (about 3 rows a day), 60 empty days, then a burst of 3,000 rows
    // within two days (1,500 a day: a window sized on the sparse part counts far more than 900).
    const rows = [
      ...seedTransactions({ seed: 21, rows: 1200, from: new Date(to.getTime() - 460 * dayMs), to: new Date(to.getTime() - 60 * dayMs) }),
      ...seedTransactions({ seed: 22, rows: 3000, from: new Date(to.getTime() - 2 * dayMs), to }),
    ];
    sim = await startTestSimulator({ ledger: new Ledger(rows, { seed: 3 }) });
    adaptive = await createMigratedDatabase("adaptive");
    fixed = await createMigratedDatabase("adaptive-fixed");
  });
  afterAll(async () => {
    await sim?.close();
    await adaptive?.drop();
    await fixed?.drop();
  });

  test("spans follow the density: few windows over sparse and empty stretches, bursts halved to fit, the database equals the ledger", async () => {
    const { summary, committed, log } = await backfill(adaptive, sim, target);
    await expectDatabaseEqualsLedger(adaptive.url, sim);
    await expectVersionsConsistent(adaptive.url);
    const [run] = await syncRuns(adaptive.url);
    expect(run).toMatchObject({ status: "succeeded", windows_walked: summary.windows, rows_inserted: sim.ledger.size });

    // Committed in order, contiguous, from the oldest row to the run's start.
    expect(committed).toHaveLength(summary.windows);
    for (let i = 1; i < committed.length; i++) expect(committed[i]!.window.from).toBe(committed[i - 1]!.window.to);
    expect(committed.reduce((n, w) => n + w.count, 0)).toBe(sim.ledger.size);

    // No window holds more than a transaction may; the burst was met by halving, and the spans
    // shrank to it: a window of the burst spans hours, one of the sparse history months.
    expect(Math.max(...committed.map((w) => w.count))).toBeLessThanOrEqual(maxRowsPerWindow);
    expect(log).toContain("window too large for one transaction: halved");
    const spanDays = (w: WindowStats) => (w.window.to - w.window.from) / 1e6 / 86_400;
    expect(Math.max(...committed.map(spanDays))).toBeGreaterThan(30);
    expect(Math.min(...committed.filter((w) => w.count > 0).map(spanDays))).toBeLessThan(0.5);
    // Once sized by a neighbour of the same density, windows hold about the target.
    const sized = committed.slice(1).filter((w) => w.count > target / 3);
    expect(sized.length).toBeGreaterThan(committed.length / 2);
  });

  test("the same ledger in fixed one-day windows costs many more requests and lands the same rows", async () => {
    const adaptiveRun = (await syncRuns(adaptive.url))[0]!;
    const { summary } = await backfill(fixed, sim, 0);
    await expectDatabaseEqualsLedger(fixed.url, sim);
    expect(summary.windows).toBeGreaterThan(450); // one per day, the burst's days halved
    expect(adaptiveRun.windows_walked).toBeLessThan(summary.windows / 10);
    expect(adaptiveRun.api_requests).toBeLessThan(summary.apiRequests / 5);
  });
});

describe("row-sized windows under faults the retries absorb", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  // Windows aim at 2,000 rows (20 pages): at these rates most of their walks meet a moving count,
  // and a large window that does not settle is rolled back and walked as two halves.
  const cases: { name: string; faults: Partial<SimulatorFaults>; halved?: boolean }[] = [
    { name: "500/502/503 at 10%", faults: { failRate: 0.1 } },
    { name: "connections reset mid-body at 10%", faults: { resetRate: 0.1 } },
    { name: "a count that changes between pages at 5%", faults: { countDriftRate: 0.05 }, halved: true },
    {
      name: "rows inserted and deleted inside the window being walked at 5%",
      faults: { churnRate: 0.05, churnKinds: ["insert", "delete"] },
      halved: true,
    },
  ];

  test.each(cases)("$name: the run succeeds and the database equals the ledger", async ({ faults, halved }) => {
    db = await createMigratedDatabase("adaptive-faults");
    // 8,000 rows over 60 days: spans grow from one day to about two weeks.
    sim = await seededSimulator(131, 8000, 60, { faults: { seed: 7, ...faults } });
    const outcome = await syncLogged(db.url, sim, { windowMs: days(1), windowRows: 2000, concurrency: 3 });
    if (outcome.error) throw outcome.error;
    expect(Object.values(sim.stats.injected).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThan(0);
    sim.resetFaults();
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    const [run] = await syncRuns(db.url);
    await expectFirstRunTruthful(db.url, run!, outcome.summary);
    expect(outcome.summary!.windows).toBeLessThan(20);
    if (halved) expect(outcome.log).toContain("window did not settle (rows moved during the walk): rolled back, walking its halves");
  });
});

describe("a first run's first window, sized by the history it found", () => {
  let sim: SimulatorHandle;
  let db: TestDatabase;

  beforeAll(async () => {
    // 800 rows over 120 days (under the 900 a window may hold here): SYNC_WINDOW's 1-day guess would hold about 7 of them.
    sim = await seededSimulator(61, 800, 120);
  });
  afterEach(async () => {
    await db?.drop();
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("a history under the row target is one window from 1900: its page 0 is the run's first transactions request, then its pages, its closing request and users/me", async () => {
    db = await createMigratedDatabase("adaptive-first");
    const { summary, committed } = await backfill(db, sim, 10_000);
    await expectDatabaseEqualsLedger(db.url, sim);
    expect(committed).toHaveLength(1);
    expect(committed[0]!.window.from).toBe(historyFloor);
    expect(committed[0]!.count).toBe(sim.ledger.size);
    const [run] = await syncRuns(db.url);
    // No search for the oldest row: the window's page 0 answered the first request.
    expect(run!.api_requests).toBe(summary.pages + 1 + 1);
    // Its rollups were recomputed over the rows it wrote, not its 126 years of days.
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["UTC"]);
  });

  test("run --full over that history, held: a deletion and a change anywhere in it are found, and the rollups follow", async () => {
    db = await createMigratedDatabase("adaptive-first-full");
    const own = await seededSimulator(62, 800, 120);
    try {
      await backfill(db, own, 10_000);
      const [oldest, other] = [...own.ledger.all()].sort((a, b) => a.created_at.localeCompare(b.created_at));
      own.ledger.remove(oldest!.id);
      own.ledger.update(other!.id, { description: "changed long after" });
      const summary = await runSync(
        testSyncOptions(db.url, own, new LogCapture().logger, { windowMs: days(1), windowRows: 10_000 }, { maxRowsPerWindow, full: true }),
      );
      expect(summary.windows).toBe(1);
      expect(summary.deleted).toBe(1);
      expect(summary.updated).toBe(1);
      await expectDatabaseEqualsLedger(db.url, own);
      await expectRollupsEqualLedger(db.url, own.ledger.all(), ["UTC"]);
    } finally {
      await own.close();
    }
  });

  test("a larger history: the first window holds about the row target, not SYNC_WINDOW's span", async () => {
    db = await createMigratedDatabase("adaptive-first-target");
    const { committed } = await backfill(db, sim, 300);
    await expectDatabaseEqualsLedger(db.url, sim);
    // The seeded ledger is about evenly spread: the first window holds the target give or take half.
    expect(committed[0]!.count).toBeGreaterThan(150);
    expect(committed[0]!.count).toBeLessThan(450);
    expect(committed.length).toBeLessThan(6);
  });
});
