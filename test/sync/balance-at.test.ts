import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { formatMicros, normalizeDecimal, type SimTransaction, type SimulatorHandle } from "../../src/simulator/index.js";
import { naiveToMicros } from "../../src/simulator/time.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { generator } from "../helpers/random.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { dayMs, days, hourMs } from "../helpers/time.js";

// ledger_balance_at() finds a balance type's latest live row at an instant through the rollups (the
// rows of the instant's own 15-minute bucket, the closings of its UTC day's earlier buckets, the
// last UTC day before with one), in place of an index on (account, balance_type, created_at). It
// feeds the balance checkpoints and the statements' opening and closing balances, so it must give
// exactly the row the simulator's ledger says, at every kind of instant, after updates and deletions.

const microsPerBucket = 15 * 60 * 1_000_000;
const microsPerDay = 24 * 60 * 60 * 1_000_000;

/** The simulator's truth: for each balance type, the latest live row created at or before an instant (created_at, then id). */
function latestRows(rows: readonly SimTransaction[]): (type: string, at: number) => SimTransaction | undefined {
  const byType = new Map<string, { micros: number; row: SimTransaction }[]>();
  for (const row of rows)
    byType.set(row.balance_type, [...(byType.get(row.balance_type) ?? []), { micros: naiveToMicros(row.created_at), row }]);
  return (type, at) => {
    let best: SimTransaction | undefined;
    for (const { micros, row } of byType.get(type) ?? []) {
      if (micros > at) continue;
      if (!best || row.created_at > best.created_at || (row.created_at === best.created_at && row.id > best.id)) best = row;
    }
    return best;
  };
}

describe("ledger_balance_at(): a balance type's latest live row at an instant", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const to = Date.now() - 60_000;
  const midnightUtc = Math.floor((to - 10 * dayMs) / dayMs) * dayMs;

  beforeAll(async () => {
    db = await createMigratedDatabase("balance_at");
    sim = await seededSimulator(31, 1200, 45, { to: new Date(to) });
    const ledger = sim.ledger;
    // A type seen twice in 45 days (the lookup must reach back across empty days and buckets), rows
    // on a UTC midnight and a bucket's start, one a microsecond before midnight, and eight times
    // three rows of a type sharing their created_at, each of another status (the id breaks the tie,
    // within a bucket and across the rollups' statuses).
    ledger.add({ created_at: new Date(midnightUtc - 30 * dayMs + 7 * hourMs), balance_type: "rare_type", amount: "100" });
    ledger.add({ created_at: new Date(midnightUtc - 5 * dayMs + 3 * hourMs), balance_type: "rare_type", amount: "-4.5" });
    ledger.add({ created_at: new Date(midnightUtc), balance_type: "email_finder", amount: "-2" });
    ledger.add({ created_at: new Date(midnightUtc + 45 * 60_000), balance_type: "email_finder", amount: "-3" });
    ledger.add({ created_at: `${formatMicros((midnightUtc + dayMs) * 1000 - 1)}`, balance_type: "platform", amount: "-0.25" });
    // The rare type's only rows of a day are such a tie: a later day reads its closing from that day.
    for (const status of ["success", "error", "pending"] as const)
      ledger.add({ created_at: new Date(midnightUtc - 20 * dayMs + 22 * hourMs), balance_type: "rare_type", amount: "-1", status });
    for (let i = 0; i < 8; i++) {
      const shared = new Date(midnightUtc - (2 + i) * dayMs + 11 * hourMs + 1234);
      for (const [amount, status] of [
        ["-1.5", "success"],
        ["-2.5", "error"],
        ["-3.5", "pending"],
      ] as const)
        ledger.add({ created_at: shared, balance_type: "platform", amount, status });
    }
    await syncOnce(db.url, sim, { windowMs: days(7) });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  /** Rows the API stopped listing: the database keeps them (deleted_at set), so their instants are probed too. */
  const removed: SimTransaction[] = [];

  async function expectLookupsEqualLedger() {
    const rows = sim.ledger.all();
    const types = [...new Set(rows.map((r) => r.balance_type)), "never_seen"];
    const random = generator(5);
    const first = Math.min(...rows.map((r) => naiveToMicros(r.created_at)));
    const last = Math.max(...rows.map((r) => naiveToMicros(r.created_at)));
    const instants = new Set<number>([first - 1, last + microsPerDay]);
    for (const row of [...rows, ...removed]) {
      const at = naiveToMicros(row.created_at);
      const bucket = at - (at % microsPerBucket);
      const day = at - (at % microsPerDay);
      for (const instant of [at, at - 1, at + 1, bucket, bucket - 1, day, day - 1]) instants.add(instant);
    }
    for (let i = 0; i < 300; i++) instants.add(first + Math.floor(random() * (last - first)));
    const probes = types.flatMap((type) => [...instants].map((at) => ({ type, at })));
    const found = await query<{ id: string | null; after_balance: string | null }>(
      db.url,
      `SELECT l.id::text, l.after_balance::text
       FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS p(type, at, i)
       LEFT JOIN LATERAL ledger_balance_at('acct', p.type, p.at) l ON true ORDER BY p.i`,
      [probes.map((p) => p.type), probes.map((p) => `${formatMicros(p.at)}Z`)],
    );
    const latestRow = latestRows(rows);
    const differing = probes.flatMap((probe, i) => {
      const truth = latestRow(probe.type, probe.at);
      const got = found[i]!;
      const expected = { id: truth?.id ?? null, after_balance: truth ? normalizeDecimal(truth.after_balance) : null };
      const actual = { id: got.id, after_balance: got.after_balance === null ? null : normalizeDecimal(got.after_balance) };
      return expected.id === actual.id && expected.after_balance === actual.after_balance
        ? []
        : [{ type: probe.type, at: formatMicros(probe.at), expected, actual }];
    });
    expect(probes.length).toBeGreaterThan(20_000);
    expect(differing.slice(0, 5)).toEqual([]);
    expect(found.filter((f) => f.id === null).length).toBeGreaterThan(0); // never_seen, and instants before a type's first row
  }

  test("after a backfill, at rows, a microsecond around them, bucket and day starts and random instants", async () => {
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectLookupsEqualLedger();
  });

  test("after updates, deletions (a type's latest row, a bucket's closing) and a row moved across days", async () => {
    const rows = sim.ledger.all();
    const byType = (type: string) => rows.filter((r) => r.balance_type === type).sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    const rare = byType("rare_type");
    const platform = byType("platform");
    removed.push(rare[1]!, platform.at(-1)!);
    for (const row of removed) sim.ledger.remove(row.id);
    sim.ledger.update(platform.at(-2)!.id, { after_balance: "123.456" });
    sim.ledger.update(platform.at(-3)!.id, { balance_type: "rare_type" });
    // The lowest id of each tie updated: its new version lands after the others in the heap, so
    // an order that forgot the id would pick it.
    const ties = new Map<string, SimTransaction[]>();
    for (const row of platform) ties.set(row.created_at, [...(ties.get(row.created_at) ?? []), row]);
    for (const tied of ties.values())
      if (tied.length > 1) sim.ledger.update(tied.sort((a, b) => (a.id < b.id ? -1 : 1))[0]!.id, { after_balance: "77.7" });
    const moved = platform[10]!;
    sim.ledger.update(moved.id, { created_at: formatMicros(naiveToMicros(moved.created_at) + 3 * microsPerDay + 17) });
    await syncOnce(db.url, sim, { windowMs: days(7), lookbackMs: days(60) });
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectLookupsEqualLedger();
  });
});
