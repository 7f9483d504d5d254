import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Config } from "../../src/config/index.js";
import { runSnapshot } from "../../src/job/run.js";
import { Ledger, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { addDays, daysBetween, localDate } from "../../src/snapshots/days.js";
import { runCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { refreshRollupsAt } from "../helpers/rollups.js";
import { dailyFromDatabase, dailyFromSimulator } from "../helpers/snapshots.js";
import { LogCapture, seededSimulator, startTestSimulator, syncOnce, testConfig, testToken } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

async function snapshot(db: TestDatabase, sim: SimulatorHandle, timezone: string, overrides: Partial<Config> = {}) {
  return runSnapshot({
    config: testConfig(sim, { timezone, ...overrides }),
    databaseUrl: db.url,
    log: new LogCapture().logger,
    clientOptions: { minRetryDelayMs: 1, maxRetryDelayMs: 2 },
  });
}

/** Local days in Los Angeles whose length is not 24 h, between two instants: the offset at 12:00 UTC changes overnight. */
function losAngelesDstDays(fromMs: number, toMs: number): string[] {
  const format = new Intl.DateTimeFormat("en-US", { timeZone: "America/Los_Angeles", timeZoneName: "shortOffset" });
  const offset = (ms: number) => format.formatToParts(ms).find((part) => part.type === "timeZoneName")!.value;
  const days: string[] = [];
  for (let noon = Math.floor(fromMs / dayMs) * dayMs + dayMs / 2; noon + dayMs <= toMs; noon += dayMs) {
    if (offset(noon) !== offset(noon + dayMs)) days.push(localDate(noon + dayMs, "America/Los_Angeles"));
  }
  return days;
}

describe("daily spent-credit snapshots", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const to = new Date(Date.now() - 120_000);
  const from = new Date(to.getTime() - 300 * dayMs); // spans both DST changes of the year

  beforeAll(async () => {
    db = await createMigratedDatabase("snapshots");
    sim = await startTestSimulator({ ledger: new Ledger(seedTransactions({ seed: 41, rows: 2500, from, to })) });
    await syncOnce(db.url, sim, { windowMs: days(60) });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each(["UTC", "America/Los_Angeles", "Asia/Kolkata"])(
    "equal the simulator's spent_credits in %s, every day and endpoint",
    async (timezone) => {
      const stats = await snapshot(db, sim, timezone);
      const oldest = sim.ledger.all().at(-1)!;
      const firstDay = localDate(Date.parse(`${oldest.created_at}Z`), timezone);
      const today = localDate(Date.now(), timezone);
      expect(stats.from).toBe(firstDay); // the first capture reaches back to the oldest transaction
      expect(stats.to).toBe(today);
      expect(stats.totalMismatches).toBe(0);
      expect(await dailyFromDatabase(db, timezone)).toEqual(dailyFromSimulator(sim, timezone, firstDay, today));
    },
  );

  test("a DST day in Los Angeles is one bucket of 23 or 25 hours", async () => {
    // The ledger's 300 days hold at least one change of the clocks, whenever the test runs.
    const dstDays = losAngelesDstDays(from.getTime(), to.getTime());
    expect(dstDays.length).toBeGreaterThan(0);
    const rows = await query<{ day: string }>(
      db.url,
      `SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM spent_credit_snapshots WHERE timezone = 'America/Los_Angeles' AND to_char(day, 'YYYY-MM-DD') = ANY($1)`,
      [dstDays],
    );
    const expected = dstDays.flatMap((d) => Object.keys(dailyFromSimulator(sim, "America/Los_Angeles", d, d)));
    expect(expected.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.day).sort()).toEqual(expected.sort());
  });

  test("capturing again is idempotent; a restatement keeps both values", async () => {
    const before = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM spent_credit_snapshots WHERE timezone = 'UTC'");
    const again = await snapshot(db, sim, "UTC");
    expect(again.rows).toBe(0);
    expect(again.from).toBe(localDate(Date.now() - 35 * dayMs, "UTC")); // last captured day minus SNAPSHOT_RESTATE_DAYS
    const after = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM spent_credit_snapshots WHERE timezone = 'UTC'");
    expect(after).toEqual(before);

    // Generect reverses a charge from ten days ago: that day's value is restated.
    const charge = sim.ledger
      .all()
      .find((r) => r.status === "success" && r.amount.startsWith("-") && Date.parse(`${r.created_at}Z`) < Date.now() - 10 * dayMs)!;
    sim.ledger.update(charge.id, { status: "error" });
    const restated = await snapshot(db, sim, "UTC");
    expect(restated.restated).toBe(1);
    const chargeDay = charge.created_at.slice(0, 10);
    const history = await query<{ credits: string }>(
      db.url,
      `SELECT credits::text FROM spent_credit_snapshots s WHERE timezone = 'UTC' AND day = $1 AND endpoint = (
         SELECT endpoint FROM spent_credit_snapshots WHERE timezone = 'UTC' AND day = $1 GROUP BY endpoint HAVING count(*) > 1) ORDER BY id`,
      [chargeDay],
    );
    expect(history).toHaveLength(2);
    expect(Number(history[1]!.credits) - Number(history[0]!.credits)).toBeCloseTo(-Number(charge.amount), 6);
    expect(await dailyFromDatabase(db, "UTC")).toEqual(dailyFromSimulator(sim, "UTC", "2000-01-01", localDate(Date.now(), "UTC")));
    sim.ledger.update(charge.id, { status: "success" });
  });

  test("a total that disagrees with its values is recorded on the run and reported", async () => {
    sim.faults.intercept = ({ path }) => {
      if (!path.includes("spent_credits")) return undefined;
      return { status: 200, body: '{"spent_credits": {}, "total_spent_credits": -1}' };
    };
    const result = await runCli(["snapshot"], {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_TIMEZONE: "UTC",
    });
    sim.faults.intercept = undefined;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("WARNING: 1 answer(s) whose total_spent_credits differs from the sum of its values");
    const [run] = await query<{ snapshot_total_mismatches: number; command: string }>(
      db.url,
      "SELECT snapshot_total_mismatches, command FROM sync_runs ORDER BY id DESC LIMIT 1",
    );
    expect(run).toEqual({ snapshot_total_mismatches: 1, command: "snapshot" });
  });

  test("a bucket key that is not the start of a local day is a clear error and writes nothing", async () => {
    const before = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM spent_credit_snapshots");
    sim.faults.intercept = ({ path }) =>
      path.includes("spent_credits")
        ? {
            status: 200,
            body: `{"spent_credits": {"${localDate(Date.now(), "UTC")}T05:30:00": {"platform": -1}}, "total_spent_credits": -1}`,
          }
        : undefined;
    const error = await snapshot(db, sim, "UTC").catch((e: Error) => e);
    sim.faults.intercept = undefined;
    expect((error as Error).message).toMatch(
      /spent_credits answered bucket "\d{4}-\d\d-\d\dT05:30:00", which is not the start of a day in UTC between/,
    );
    expect(await query(db.url, "SELECT count(*)::text AS n FROM spent_credit_snapshots")).toEqual(before);
  });
});

describe("a first capture's requests", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("snapshot-chunks");
    sim = await seededSimulator(44, 1200, 300);
    await syncOnce(db.url, sim, { windowMs: days(60) });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  const captures = (runId: string) =>
    query<{ start_day: string; end_day: string }>(
      db.url,
      `SELECT to_char(start_day, 'YYYY-MM-DD') AS start_day, to_char(end_day, 'YYYY-MM-DD') AS end_day FROM spent_credit_captures
       WHERE run_id = $1 ORDER BY start_day`,
      [runId],
    );

  test("300 days of history are one spent_credits request", async () => {
    const stats = await snapshot(db, sim, "UTC");
    expect(await captures(stats.runId)).toEqual([{ start_day: stats.from, end_day: stats.to }]);
    expect(stats.apiRequests).toBe(1);
    expect(await dailyFromDatabase(db, "UTC")).toEqual(dailyFromSimulator(sim, "UTC", stats.from!, stats.to!));
  });

  test("a response bound too small for them cuts the days into requests whose answers fit, and the values are the same", async () => {
    // 64 KiB, the smallest GENERECT_MAX_RESPONSE_BYTES: 128 days a request.
    const stats = await snapshot(db, sim, "Asia/Kolkata", { maxResponseBytes: 65_536 });
    const chunks = await captures(stats.runId);
    expect(chunks.length).toBe(3);
    expect(chunks[0]!.start_day).toBe(stats.from);
    expect(chunks.at(-1)!.end_day).toBe(stats.to);
    for (const [i, chunk] of chunks.entries()) {
      expect(daysBetween(chunk.start_day, chunk.end_day) + 1).toBeLessThanOrEqual(128);
      if (i > 0) expect(chunk.start_day).toBe(addDays(chunks[i - 1]!.end_day, 1));
    }
    expect(stats.apiRequests).toBe(chunks.length);
    expect(await dailyFromDatabase(db, "Asia/Kolkata")).toEqual(dailyFromSimulator(sim, "Asia/Kolkata", stats.from!, stats.to!));
  });
});

describe("reconciliation", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("reconcile");
    sim = await seededSimulator(43, 1500, 60, { to: new Date(Date.now() - 120_000) });
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_TIMEZONE: "Asia/Kolkata",
    };
    expect((await runCli(["run"], env)).code).toBe(0); // transactions, then snapshots
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("agrees on clean data", async () => {
    const result = await runCli(["reconcile"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ledger agrees with Generect on (\d+) days \(Asia\/Kolkata, 1 day\(s\) not yet complete in the ledger\)/);
    const days = Number(/on (\d+) days/.exec(result.stdout)![1]);
    expect(days).toBeGreaterThanOrEqual(59);
  });

  test("names exactly the day of an injected discrepancy", async () => {
    const [victim] = await query<{ id: string; day: string; amount: string }>(
      db.url,
      `SELECT id::text, to_char((created_at AT TIME ZONE 'Asia/Kolkata')::date, 'YYYY-MM-DD') AS day, amount::text FROM transactions
       WHERE status = 'success' AND amount < 0 AND created_at < now() - interval '20 days' ORDER BY created_at LIMIT 1`,
    );
    // The ledger changed by hand: its rollup bucket is recomputed the way the sync does at a window's commit.
    const [moved] = await query<{ us: string }>(
      db.url,
      "UPDATE transactions SET amount = amount - 0.01 WHERE id = $1 RETURNING (extract(epoch FROM created_at) * 1000000)::bigint::text AS us",
      [victim!.id],
    );
    await refreshRollupsAt(db.url, Number(moved!.us));
    const result = await runCli(["reconcile", "--json"], env);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.differing).toEqual([expect.objectContaining({ day: victim!.day, difference: "0.01" })]);
    const text = await runCli(["reconcile"], env);
    expect(text.stdout).toContain(`ledger differs from Generect on 1 of`);
    expect(text.stdout).toContain(`  ${victim!.day}  Generect`);
    expect((await runCli(["reconcile", "--tolerance", "0.02"], env)).code).toBe(0);
    expect((await runCli(["reconcile", "--to", "2000-01-01"], env)).stdout).toContain("ledger agrees with Generect on 0 days");
    expect((await runCli(["reconcile", "--from", "yesterday"], env)).code).toBe(2);
    await query(db.url, "UPDATE transactions SET amount = $2::numeric WHERE id = $1", [victim!.id, victim!.amount]);
  });
});
