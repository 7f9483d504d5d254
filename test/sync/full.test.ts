// `run --full` walks the whole history: from the oldest row either side lists. A row held live
// from before the API's oldest row was deleted upstream, and a walk that began at the API's oldest
// would never visit its window (found by test/faults/combined.test.ts: the ledger's first rows
// deleted, and the mirror kept them live through every later full run).
import { describe, expect, test } from "@jest/globals";
import { createMigratedDatabase, query } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, perTest, seededSimulator, syncOnce } from "../helpers/sync.js";
import { days } from "../helpers/time.js";

describe("run --full", () => {
  const made = perTest();

  /** The sizings a full run plans under: fixed spans (it searches the oldest row), and row targets the history exceeds. */
  const sizings = [
    ["fixed spans", { windowRows: 0, windowMs: days(7) }],
    ["a row target", { windowRows: 100 }],
  ] as const;

  test.each(sizings)("under %s, marks deleted the held rows older than the API's oldest", async (_label, sizing) => {
    const db = made.database(await createMigratedDatabase("full oldest deleted"));
    const sim = made.simulator(await seededSimulator(41, 300, 30));
    await syncOnce(db.url, sim, sizing);
    const oldest = sim.ledger
      .all()
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .slice(0, 3);
    for (const row of oldest) sim.ledger.remove(row.id);

    const summary = await syncOnce(db.url, sim, sizing, { full: true });
    expect(summary.deleted).toBe(3);
    await expectDatabaseEqualsLedger(db.url, sim);
    const held = await query<{ id: string }>(db.url, "SELECT id::text FROM transactions WHERE deleted_at IS NOT NULL ORDER BY id");
    expect(held.map((r) => r.id)).toEqual(oldest.map((r) => r.id).sort());
  });

  test.each(sizings)("under %s, marks every held row deleted when the API lists none", async (_label, sizing) => {
    const db = made.database(await createMigratedDatabase("full all deleted"));
    const sim = made.simulator(await seededSimulator(42, 150, 10));
    await syncOnce(db.url, sim, sizing);
    const rows = sim.ledger.all();
    for (const row of rows) sim.ledger.remove(row.id);

    const summary = await syncOnce(db.url, sim, sizing, { full: true });
    expect(summary.deleted).toBe(rows.length);
    await expectDatabaseEqualsLedger(db.url, sim);
    const [live] = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM transactions WHERE deleted_at IS NULL");
    expect(live!.n).toBe(0);
  });
});
