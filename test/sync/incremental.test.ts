import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce, syncRuns } from "../helpers/sync.js";
import { days, hourMs } from "../helpers/time.js";

describe("a second run", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("incremental");
    sim = await seededSimulator(11, 800, 60, { to: new Date(Date.now() - 5_000) });
    await syncOnce(db.url, sim, { windowMs: days(14) });
    await expectDatabaseEqualsLedger(db.url, sim);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("with nothing new rewrites nothing", async () => {
    const before = await query<{ id: string; xmin: string }>(db.url, "SELECT id::text, xmin::text FROM transactions ORDER BY id");
    const summary = await syncOnce(db.url, sim);
    expect(summary.inserted).toBe(0);
    expect(summary.updated).toBe(0);
    expect(summary.unchanged).toBe(summary.rowsSeen);
    const after = await query<{ id: string; xmin: string }>(db.url, "SELECT id::text, xmin::text FROM transactions ORDER BY id");
    expect(after).toEqual(before);
    const [versions] = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM transaction_versions");
    expect(versions!.n).toBe(String(sim.ledger.size));
  });

  test("picks up new rows and a pending row settling inside the lookback, and writes versions", async () => {
    const recent = Date.now() - 2 * hourMs;
    const pending = sim.ledger.add({ created_at: new Date(recent), status: "pending", amount: "-2.5", balance_type: "leads_by_icp" });
    await syncOnce(db.url, sim);
    sim.ledger.update(pending.id, { status: "success" });
    const fresh = [1, 2, 3].map((i) => sim.ledger.add({ created_at: new Date(recent + i * 60_000), amount: "-0.01" }));
    const before = await query<{ id: string; xmin: string }>(
      db.url,
      "SELECT id::text, xmin::text FROM transactions WHERE id <> $1 ORDER BY id",
      [pending.id],
    );

    const summary = await syncOnce(db.url, sim);
    expect(summary.inserted).toBe(3);
    expect(summary.updated).toBe(1);
    expect(summary.unchanged).toBe(summary.rowsSeen - 4);
    await expectDatabaseEqualsLedger(db.url, sim);

    const history = await query<{ status: string; change: string }>(
      db.url,
      "SELECT status, change FROM transaction_versions WHERE id = $1 ORDER BY version_id",
      [pending.id],
    );
    expect(history).toEqual([
      { status: "pending", change: "insert" },
      { status: "success", change: "update" },
    ]);
    for (const row of fresh) {
      const [v] = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM transaction_versions WHERE id = $1", [row.id]);
      expect(v!.n).toBe("1");
    }
    const after = await query<{ id: string; xmin: string }>(
      db.url,
      "SELECT id::text, xmin::text FROM transactions WHERE id <> $1 AND NOT (id = ANY($2::uuid[])) ORDER BY id",
      [pending.id, fresh.map((r) => r.id)],
    );
    expect(after).toEqual(before);

    const runs = await syncRuns(db.url);
    expect(runs.at(-1)).toMatchObject({ status: "succeeded", rows_inserted: 3, rows_updated: 1 });
  });

  test("asks only for the lookback, not the history", async () => {
    const summary = await syncOnce(db.url, sim);
    const inLookback = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) >= Date.now() - 25 * hourMs).length;
    expect(summary.windows).toBe(1);
    expect(summary.pages).toBe(Math.max(1, Math.ceil(inLookback / 100)));
    expect(summary.apiRequests).toBe(summary.pages + 2); // + the count re-read at the end, + the users/me checkpoint
  });

  test("a row deleted upstream is marked deleted, with a version, and comes back if it reappears", async () => {
    const victim = sim.ledger.all().find((r) => Date.parse(`${r.created_at}Z`) > Date.now() - 20 * hourMs)!;
    sim.ledger.remove(victim.id);
    const summary = await syncOnce(db.url, sim);
    expect(summary.deleted).toBe(1);
    await expectDatabaseEqualsLedger(db.url, sim);
    const [row] = await query<{ deleted: boolean }>(db.url, "SELECT deleted_at IS NOT NULL AS deleted FROM transactions WHERE id = $1", [
      victim.id,
    ]);
    expect(row!.deleted).toBe(true);
    const history = await query<{ change: string }>(db.url, "SELECT change FROM transaction_versions WHERE id = $1 ORDER BY version_id", [
      victim.id,
    ]);
    expect(history.map((h) => h.change)).toEqual(["insert", "delete"]);
  });
});
