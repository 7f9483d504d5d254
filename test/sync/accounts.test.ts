// Storage v2, item 1: a transaction is (account, id). Two accounts whose ledgers share ids (the
// same ids, other values, some removed) each keep their own rows and history, and one account's
// run never writes the other's.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Ledger, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { expectVersionsConsistent } from "../faults/support.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, startTestSimulator, syncOnce, watermark } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

describe("two accounts whose ledgers share ids", () => {
  let a: SimulatorHandle;
  let b: SimulatorHandle;
  let db: TestDatabase;

  beforeAll(async () => {
    const to = new Date(Date.now() - 60_000);
    a = await seededSimulator(21, 600, 30, { to });
    // By hand, not seededSimulator: b serves its own copy of a's seeded rows, changed below.
    const other = new Ledger(seedTransactions({ seed: 21, rows: 600, from: new Date(to.getTime() - 30 * dayMs), to }), { seed: 22 });
    const rows = other.all();
    for (const [i, row] of rows.entries()) {
      if (i % 3 === 0) other.update(row.id, { description: `b's own ${i}`, status: row.status === "success" ? "error" : "success" });
    }
    for (const row of rows.filter((_, i) => i % 10 === 1)) other.remove(row.id);
    b = await startTestSimulator({ ledger: other });
    db = await createMigratedDatabase("accounts");
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  test("each account's backfill inserts its own rows, and both equal their truth field by field", async () => {
    const first = await syncOnce(db.url, a, { windowMs: days(10), account: "a" });
    const markA = await watermark(db.url, "a");
    const second = await syncOnce(db.url, b, { windowMs: days(10), account: "b" });
    expect(first).toMatchObject({ inserted: a.ledger.size, updated: 0, deleted: 0 });
    expect(second).toMatchObject({ inserted: b.ledger.size, updated: 0, deleted: 0 });
    const shared = await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM transactions x JOIN transactions y ON x.id = y.id AND x.account = 'a' AND y.account = 'b'",
    );
    expect(shared[0]!.n).toBe(b.ledger.size);
    await expectDatabaseEqualsLedger(db.url, a, "a");
    await expectDatabaseEqualsLedger(db.url, b, "b");
    expect(await watermark(db.url, "a")).toBe(markA);
  });

  test("a change in one ledger is an update of that account only, and the other account's next run finds nothing changed", async () => {
    const row = b.ledger.all()[5]!;
    const servedBefore = b.ledger.served(row);
    b.ledger.update(row.id, { description: "changed in b" });
    const victim = b.ledger.all()[7]!;
    const victimServed = b.ledger.served(victim);
    b.ledger.remove(victim.id);
    expect(await syncOnce(db.url, b, { windowMs: days(10), account: "b" })).toMatchObject({ inserted: 0, updated: 1, deleted: 1 });
    expect(await syncOnce(db.url, a, { windowMs: days(10), account: "a" })).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    await expectDatabaseEqualsLedger(db.url, a, "a");
    await expectDatabaseEqualsLedger(db.url, b, "b");
    // The superseded versions are what the API served before, valid until the run that replaced them.
    const history = await query<{ account: string; id: string; change: string; raw: string; ended_by_run: boolean }>(
      db.url,
      `
      SELECT h.account, h.id::text, h.change, h.raw, h.valid_to = t.last_seen_at AND t.last_run_id = (SELECT max(id) FROM sync_runs WHERE account = 'b') AS ended_by_run
      FROM transaction_history h JOIN transactions t USING (account, id) ORDER BY h.version_id`,
    );
    expect(history).toEqual([
      { account: "b", id: row.id, change: "update", raw: servedBefore, ended_by_run: true },
      { account: "b", id: victim.id, change: "delete", raw: victimServed, ended_by_run: true },
    ]);
    const versions = await query<{ change: string }>(
      db.url,
      "SELECT change FROM transaction_versions WHERE account = 'b' AND id = $1 ORDER BY version_id",
      [victim.id],
    );
    expect(versions.map((v) => v.change)).toEqual(["insert", "delete"]);
    await expectVersionsConsistent(db.url);
  });
});
