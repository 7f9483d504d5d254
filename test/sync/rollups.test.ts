import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readStatus } from "../../src/cli/status-read.js";
import { Database } from "../../src/db/database.js";
import { addDecimals } from "../../src/simulator/decimal.js";
import { formatMicros, normalizeDecimal, type SimulatorHandle } from "../../src/simulator/index.js";
import { addDays, localDate } from "../../src/snapshots/days.js";
import { bucketMicros, ensureRollupZone, MovedBuckets, refreshRollups } from "../../src/sync/rollups.js";
import { asMicros } from "../../src/time.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { bucketsDifferingFromAggregate, databaseDays, expectRollupsEqualLedger } from "../helpers/rollups.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { dayMs, days, hourMs, ms } from "../helpers/time.js";

const zones = ["UTC", "Asia/Kolkata", "Asia/Kathmandu"];
const naive = (ms: number) => formatMicros(ms * 1000);

describe("ledger_rollups kept with the data", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const to = Date.now() - 60_000;
  const midnightUtc = Math.floor((to - 20 * dayMs) / dayMs) * dayMs;

  beforeAll(async () => {
    db = await createMigratedDatabase("rollups");
    sim = await seededSimulator(77, 900, 60, { to: new Date(to) });
    const ledger = sim.ledger;
    // Rows on the edges of local days: Kolkata's midnight is 18:30 UTC, Kathmandu's 18:15 UTC.
    for (const edge of [18 * hourMs + 30 * 60_000, 18 * hourMs + 15 * 60_000, dayMs]) {
      ledger.add({ created_at: new Date(midnightUtc - dayMs + edge), amount: "-1.25" });
      ledger.add({ created_at: new Date(midnightUtc - dayMs + edge - 1), amount: "-0.5", description: "edge - 1 ms" });
    }
    ledger.add({ created_at: new Date(midnightUtc - 3 * dayMs), amount: "40", description: "Refund for a failed search" });
    ledger.add({ created_at: new Date(midnightUtc - 3 * dayMs + hourMs), amount: "500", description: "Top-up" });
    // As a capture of spent credits in those zones would: their daily rollups are kept from the start.
    for (const zone of zones.slice(1))
      await query(db.url, "INSERT INTO ledger_rollup_zones (account, timezone) VALUES ('acct', $1)", [zone]);
    await syncOnce(db.url, sim, { windowMs: days(7) });
  });
  let shared: Database | undefined;
  const database = () => (shared ??= new Database(db.url));
  afterAll(async () => {
    await shared?.close();
    await sim?.close();
    await db?.drop();
  });

  test("after a backfill, equal the simulator's aggregate in UTC, +05:30 and +05:45", async () => {
    await expectDatabaseEqualsLedger(db.url, sim);
    const registered = await query<{ timezone: string }>(
      db.url,
      "SELECT timezone FROM ledger_rollup_zones WHERE account = 'acct' ORDER BY 1",
    );
    expect(registered.map((z) => z.timezone)).toEqual([...zones].sort());
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), zones);
  });

  test("a zone registered late is built from the buckets", async () => {
    await database().withClient((client) => ensureRollupZone(client, "acct", "America/St_Johns")); // -03:30
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["America/St_Johns"]);
  });

  test("follow updates, a created_at moved across days, and deletions", async () => {
    const rows = sim.ledger.all();
    const recent = rows.filter((r) => Date.parse(`${r.created_at}Z`) > to - 12 * hourMs);
    const old = rows.filter((r) => Date.parse(`${r.created_at}Z`) < to - 30 * dayMs);
    expect(recent.length).toBeGreaterThan(4);
    // A settled charge restated, another reversed, one row gone, and an old row moved into today:
    // its old day (outside the run's lookback) must lose it.
    sim.ledger.update(recent[0]!.id, { amount: "-7.000001" });
    sim.ledger.update(recent[1]!.id, { status: "error" });
    sim.ledger.remove(recent[2]!.id);
    sim.ledger.update(old[0]!.id, { created_at: naive(to - 2 * hourMs) });
    sim.ledger.update(old[1]!.id, { created_at: naive(to - 3 * hourMs), balance_type: "platform", amount: "-3" });
    // And a recent row moved back 40 days: the sync finds it there (not deleted), and that old day gains it.
    sim.ledger.update(recent[3]!.id, { created_at: naive(to - 40 * dayMs) });
    const summary = await syncOnce(db.url, sim);
    expect(summary.deleted).toBe(1);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), zones);

    const database = new Database(db.url);
    try {
      const status = await readStatus(database.pool, { account: "acct", timezone: "UTC", runs: 1 });
      expect(status.live).toBe(sim.ledger.size);
      expect(status.deleted).toBe(1);
    } finally {
      await database.close();
    }
  });

  test("every UTC day has a closing balance, days without a transaction included", async () => {
    const rows = sim.ledger.all().map((r) => ({ ...r, ms: Date.parse(`${r.created_at}Z`) }));
    const view = await query<{ balance_type: string; day: string; closing: string | null; had_rows: boolean }>(
      db.url,
      `SELECT balance_type, to_char(day, 'YYYY-MM-DD') AS day, closing_balance::text AS closing, had_rows FROM daily_closing_balance
       WHERE account = 'acct' ORDER BY balance_type, day`,
    );
    const types = [...new Set(rows.map((r) => r.balance_type))].sort();
    expect([...new Set(view.map((v) => v.balance_type))].sort()).toEqual(types);
    let empty = 0;
    for (const type of types) {
      const days = view.filter((v) => v.balance_type === type);
      const ofType = rows
        .filter((r) => r.balance_type === type)
        .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
      expect(days[0]!.day).toBe(ofType[0]!.created_at.slice(0, 10));
      for (let i = 0; i < days.length; i++) {
        const d = days[i]!;
        expect(Date.parse(`${d.day}T00:00:00Z`)).toBe(Date.parse(`${days[0]!.day}T00:00:00Z`) + i * dayMs); // no day missing
        const end = Date.parse(`${d.day}T00:00:00Z`) + dayMs;
        const before = ofType.filter((r) => r.ms < end);
        const last = before[before.length - 1]!;
        expect({ day: d.day, closing: d.closing === null ? null : normalizeDecimal(d.closing), had: d.had_rows }).toEqual({
          day: d.day,
          closing: normalizeDecimal(last.after_balance),
          had: before.some((r) => r.ms >= end - dayMs),
        });
        if (!d.had_rows) empty += 1;
      }
    }
    expect(empty).toBeGreaterThan(0); // the ledger has quiet days, and they were checked
  });

  // Most days with rows are followed by another, and their one-day span needs no series of days:
  // the view runs its series subplan only where quiet days follow (migration 20261129020000).
  test("daily_closing_balance lists quiet days through a subplan run only where they follow, up to the watermark's day", async () => {
    const [explained] = await query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(
      db.url,
      "EXPLAIN (ANALYZE, FORMAT JSON) SELECT balance_type, count(*) FROM daily_closing_balance WHERE account = 'acct' GROUP BY 1",
    );
    const subplanLoops = (node: PlanNode): number =>
      (node["Parent Relationship"] === "SubPlan" ? node["Actual Loops"] : 0) + (node.Plans ?? []).reduce((n, p) => n + subplanLoops(p), 0);
    const [spans] = await query<{ with_rows: number; followed_by_quiet: number }>(
      db.url,
      `SELECT count(*) FILTER (WHERE had_rows)::int AS with_rows,
              count(*) FILTER (WHERE had_rows AND NOT next_had_rows)::int AS followed_by_quiet
       FROM (SELECT had_rows, lead(had_rows) OVER (PARTITION BY balance_type ORDER BY day) AS next_had_rows
             FROM daily_closing_balance WHERE account = 'acct') d`,
    );
    expect(spans!.followed_by_quiet).toBeGreaterThan(0);
    expect(spans!.followed_by_quiet).toBeLessThan(spans!.with_rows);
    expect(subplanLoops(explained!["QUERY PLAN"][0]!.Plan)).toBe(spans!.followed_by_quiet);

    // Each balance type is listed up to its last day with rows or the watermark's day, the later.
    const [watermark] = await query<{ day: string }>(
      db.url,
      `SELECT to_char((watermark - interval '1 microsecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
       FROM sync_state WHERE account = 'acct' AND stream = 'transactions'`,
    );
    const ends = await query<{ last: string; last_with_rows: string }>(
      db.url,
      `SELECT to_char(max(day), 'YYYY-MM-DD') AS last, to_char(max(day) FILTER (WHERE had_rows), 'YYYY-MM-DD') AS last_with_rows
       FROM daily_closing_balance WHERE account = 'acct' GROUP BY balance_type`,
    );
    expect(ends.length).toBeGreaterThan(1);
    for (const end of ends) expect(end.last).toBe([end.last_with_rows, watermark!.day].sort().at(-1));
    expect(ends.some((end) => end.last > end.last_with_rows)).toBe(true); // a type quiet up to the watermark
  });

  // The row views join ledger_accounts() so their plans reach the per-account indexes, and
  // ledger_days() reads the daily rollups of the accounts that registered the zone: with two
  // accounts, one registered in Kolkata and one not, both still answer each account's truth.
  test("a second account: the row views list both, ledger_days answers each from its own source", async () => {
    await syncOnce(db.url, sim, { account: "other" });
    await expectDatabaseEqualsLedger(db.url, sim, "other");
    const registered = await query<{ timezone: string }>(db.url, "SELECT timezone FROM ledger_rollup_zones WHERE account = 'other'");
    expect(registered.map((z) => z.timezone)).not.toContain("Asia/Kolkata");
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["UTC", "Asia/Kolkata"], "other");
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["UTC", "Asia/Kolkata"], "acct");

    const rows = sim.ledger.all();
    const since = to - 10 * dayMs;
    const recent = rows.filter((r) => Date.parse(`${r.created_at}Z`) > since);
    const inRange = await query<{ account: string; n: number; platform: number; amount: string }>(
      db.url,
      `SELECT account, count(*)::int AS n, (count(*) FILTER (WHERE balance_type = 'platform'))::int AS platform, sum(amount)::text AS amount
       FROM running_balance WHERE created_at > $1 GROUP BY account ORDER BY account`,
      [new Date(since)],
    );
    const sum = (xs: typeof rows) => normalizeDecimal(xs.reduce((acc, r) => addDecimals(acc, normalizeDecimal(r.amount)), "0"));
    const expected = { n: recent.length, platform: recent.filter((r) => r.balance_type === "platform").length, amount: sum(recent) };
    expect(inRange.map(({ account, amount, ...f }) => ({ account, ...f, amount: normalizeDecimal(amount) }))).toEqual([
      { account: "acct", ...expected },
      { account: "other", ...expected },
    ]);

    const positive = rows.filter((r) => Number(r.amount) > 0);
    const money = await query<{ account: string; n: number; refunds: number }>(
      db.url,
      "SELECT account, count(*)::int AS n, (count(*) FILTER (WHERE kind = 'refund'))::int AS refunds FROM top_ups_and_refunds GROUP BY account ORDER BY account",
    );
    const refunds = positive.filter((r) => /refund/i.test(r.description)).length;
    expect(money).toEqual([
      { account: "acct", n: positive.length, refunds },
      { account: "other", n: positive.length, refunds },
    ]);
    const [one] = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM running_balance WHERE account = 'other'");
    expect(one!.n).toBe(rows.length);

    // The UTC rollup views list both accounts' days, each exactly its UTC daily rollups, and a range
    // of days reaches the key one account at a time (the plan is the point: a filter on the day alone
    // read every zone's rows, in parallel workers slow to start).
    const [views] = await query<{ differing: number; accounts: string[]; spent: string; charges: string }>(
      db.url,
      `WITH utc AS (
         SELECT account, day, balance_type, status, charges, charge_count, top_ups, top_up_count, refunds, refund_count,
                live_rows, deleted_rows, closing_at, closing_balance FROM ledger_daily_rollups WHERE timezone = 'UTC')
       SELECT (SELECT count(*)::int FROM (
                (TABLE daily_ledger_rollups EXCEPT ALL TABLE utc) UNION ALL (TABLE utc EXCEPT ALL TABLE daily_ledger_rollups)) d) AS differing,
              (SELECT array_agg(DISTINCT account ORDER BY account) FROM daily_ledger_rollups) AS accounts,
              (SELECT (-sum(credits_spent))::text FROM daily_spend_by_balance_type WHERE account = 'other') AS spent,
              (SELECT sum(charges)::text FROM daily_spend_by_balance_type WHERE account = 'other') AS charges`,
    );
    const successCharges = rows.filter((r) => r.status === "success" && Number(r.amount) < 0);
    expect({ ...views, spent: normalizeDecimal(views!.spent) }).toEqual({
      differing: 0,
      accounts: ["acct", "other"],
      spent: sum(successCharges),
      charges: String(successCharges.length),
    });
    const noSeqScan = new URL(db.url);
    noSeqScan.searchParams.set("options", "-c enable_seqscan=off");
    const plan = (
      await query<{ "QUERY PLAN": string }>(
        noSeqScan.href,
        "EXPLAIN SELECT balance_type, sum(credits_spent) FROM daily_spend_by_balance_type WHERE day >= current_date - 30 GROUP BY 1",
      )
    )
      .map((r) => r["QUERY PLAN"])
      .join("\n");
    expect(plan).toMatch(/Index Cond: \(\(account = a\.account\) AND \(timezone = 'UTC'::text\) AND \(day >= /);
  });

  // An operator's zones (SYNC_ROLLUP_ZONES): a run registers them, built from the account's buckets,
  // and later windows keep them. Lord Howe moves by 30 minutes for DST (+10:30 to +11:00 early in
  // October, inside the ledger's 60 days), Eucla is +08:45.
  test("SYNC_ROLLUP_ZONES: a run registers the zones, its windows keep their days", async () => {
    const operatorZones = ["Australia/Lord_Howe", "Australia/Eucla"];
    await syncOnce(db.url, sim, { account: "other", rollupZones: operatorZones });
    const registered = await query<{ timezone: string }>(db.url, "SELECT timezone FROM ledger_rollup_zones WHERE account = 'other'");
    expect(registered.map((z) => z.timezone)).toEqual(expect.arrayContaining(operatorZones));
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), operatorZones, "other");

    const recent = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) > to - 12 * hourMs);
    sim.ledger.update(recent[0]!.id, { amount: "-11.5" });
    sim.ledger.add({ created_at: new Date(to - 2 * hourMs), amount: "25", description: "Refund, Lord Howe" });
    await syncOnce(db.url, sim, { account: "other", rollupZones: operatorZones });
    await expectDatabaseEqualsLedger(db.url, sim, "other");
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), operatorZones, "other");
  });

  // A refresh sums the local days it touches as spans: the window's range and the moved buckets that
  // share its days are one span (a bucket read twice would double its day), a moved bucket far away
  // is a span of its own, and the days between are not read. Every daily rollup is spoiled first, so
  // the days a refresh rewrote, and only those, read right afterwards.
  test("a refresh sums each local day it touches once: spans that share a day merge, far ones stay apart", async () => {
    const day0 = midnightUtc - 10 * dayMs;
    const window = { from: asMicros((day0 + 3 * hourMs) * 1000), to: asMicros((day0 + 20 * hourMs) * 1000) };
    const movedAt = [day0 + 22 * hourMs, day0 + hourMs, day0 - 25 * dayMs + 12 * hourMs];
    const bucketMs = bucketMicros / 1000;
    const moved = new MovedBuckets();
    moved.recordWritten(
      movedAt.map((t) => ({ createdAt: asMicros(t * 1000) })),
      "acct",
      window,
    );
    const registered = (await query<{ timezone: string }>(db.url, "SELECT timezone FROM ledger_rollup_zones WHERE account = 'acct'")).map(
      (z) => z.timezone,
    );
    expect(registered).toEqual(expect.arrayContaining(zones));
    await query(db.url, "UPDATE ledger_daily_rollups SET charge_count = charge_count + 1000 WHERE account = 'acct'");
    await database().withClient(async (client) => {
      await client.query("BEGIN");
      await refreshRollups(client, "acct", window, moved);
      await client.query("COMMIT");
    });
    for (const zone of registered) {
      const spanDays = (from: number, to: number) => {
        const out: string[] = [];
        for (let day = localDate(from, zone); day <= localDate(to - 1, zone); day = addDays(day, 1)) out.push(day);
        return out;
      };
      const touched = new Set([
        ...spanDays(day0 + 3 * hourMs, day0 + 20 * hourMs),
        ...movedAt.map((t) => t - (t % bucketMs)).flatMap((start) => spanDays(start, start + bucketMs)),
      ]);
      const daily = await databaseDays(db.url, zone, "acct", "daily");
      const buckets = await databaseDays(db.url, zone, "acct", "buckets");
      const rewritten = [...daily].filter(([, f]) => f.charge_count < 1000).map(([key]) => key);
      const expected = [...buckets.keys()].filter((key) => touched.has(key.slice(0, 10)));
      expect({ zone, rewritten: rewritten.sort() }).toEqual({ zone, rewritten: expected.sort() });
      for (const key of expected) expect({ zone, key, figures: daily.get(key) }).toEqual({ zone, key, figures: buckets.get(key) });
      expect(daily.size).toBeGreaterThan(expected.length + 20); // the days between were left spoiled: not read
    }
    // One span over everything puts every day right again.
    const [span] = await query<{ lo: Date; hi: Date }>(
      db.url,
      "SELECT min(bucket) AS lo, max(bucket) AS hi FROM ledger_rollups WHERE account = 'acct'",
    );
    await database().withClient((client) =>
      refreshRollups(client, "acct", {
        from: asMicros(span!.lo.getTime() * 1000),
        to: asMicros((span!.hi.getTime() + bucketMs) * 1000),
      }),
    );
    for (const zone of registered)
      expect({ zone, daily: await databaseDays(db.url, zone, "acct", "daily") }).toEqual({
        zone,
        daily: await databaseDays(db.url, zone, "acct", "buckets"),
      });
  });
});

describe("ledger_rollups bucket by bucket", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("rollups_added");
    // About 20 rows a 15-minute bucket, windows of 50 minutes whose edges fall inside buckets: the
    // windows after the first add their rows to buckets their neighbours already filled.
    sim = await seededSimulator(78, 2_000, 1);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("every bucket, every column, equals its aggregate of transactions, and after updates", async () => {
    const expectBucketsEqualAggregate = async () => {
      expect(await bucketsDifferingFromAggregate(db.url)).toEqual([]);
      const [held] = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM ledger_rollups");
      expect(held!.n).toBeGreaterThan(90);
    };
    const summary = await syncOnce(db.url, sim, { windowMs: ms(50 * 60_000) });
    expect(summary.inserted).toBe(2_000);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectBucketsEqualAggregate();

    const rows = sim.ledger.all();
    sim.ledger.update(rows[10]!.id, { amount: "-9.5" });
    sim.ledger.remove(rows[500]!.id);
    sim.ledger.update(rows[1_000]!.id, { created_at: rows[1_900]!.created_at });
    sim.ledger.add({ created_at: new Date(Date.parse(`${rows[1_500]!.created_at}Z`) + 1), amount: "12", description: "refund" });
    await syncOnce(db.url, sim, { windowMs: ms(50 * 60_000), lookbackMs: days(2) });
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectBucketsEqualAggregate();
  });
});

/** A node of EXPLAIN (FORMAT JSON)'s plan, as far as these tests read it. */
interface PlanNode {
  "Parent Relationship"?: string;
  "Actual Loops": number;
  Plans?: PlanNode[];
}
