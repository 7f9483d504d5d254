// The storage v2 migration on a database written by the previous release: the same sync, with the
// previous release's statements (src/bench/legacy-sql.ts), fills the old shape with inserts,
// updates, deletions, a deleted row listed again, two accounts, and the old key's defect (an account
// taking over another's rows). After the migration every row and every version reads back the
// same through transactions and the transaction_versions view, the account that was overwritten
// gets its rows back, and the next sync of this release finds nothing to change.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { legacyMigrations, legacyWritePath } from "../../src/bench/legacy-sql.js";
import { migrationsDir } from "../../src/db/paths.js";
import { versionMarksSql } from "../../src/db/sql/proofs.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { expectVersionsConsistent } from "../faults/support.js";
import { createTestDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { days } from "../helpers/time.js";

const storageV2 = "20261127040000_storage_v2";
const migration = (name: string) => readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");

const versionsSql = `
SELECT version_id::text, account, id::text, seen_at, run_id::text, created_at, updated_at, status, balance_type,
       amount::text, description, after_balance::text, raw, change
FROM transaction_versions ORDER BY version_id`;
const rowsSql = `
SELECT account, id::text, created_at, updated_at, status, balance_type, amount::text, description, after_balance::text, raw,
       first_seen_at, last_seen_at, deleted_at, last_run_id::text
FROM transactions ORDER BY account, id`;

describe(`migration ${storageV2}`, () => {
  let db: TestDatabase;
  let a: SimulatorHandle;
  let b: SimulatorHandle;
  let c: SimulatorHandle;
  let versionsBefore: Record<string, unknown>[];
  let rowsBefore: Record<string, unknown>[];
  /** An instant between account a's first and second run, and a's rows as the API served them then. */
  let between: Date;
  let servedBetween: string[];

  const legacySync = (sim: SimulatorHandle, account: string) =>
    syncOnce(db.url, sim, { windowMs: days(10), account }, { writePath: legacyWritePath });

  beforeAll(async () => {
    db = await createTestDatabase("storage-v2-migration");
    for (const name of legacyMigrations) await query(db.url, await migration(name));
    const to = new Date(Date.now() - 60_000);
    a = await seededSimulator(31, 400, 30, { to });
    b = await seededSimulator(32, 300, 30, { to });
    c = await seededSimulator(33, 40, 30, { to });

    await legacySync(a, "a");
    between = new Date();
    servedBetween = a.ledger
      .all()
      .map((row) => a.ledger.served(row))
      .sort();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newest = a.ledger.all();
    a.ledger.update(newest[0]!.id, { status: "error" });
    a.ledger.update(newest[1]!.id, { description: "changed once" });
    const gone = newest[2]!;
    a.ledger.remove(gone.id);
    a.ledger.remove(newest[3]!.id);
    await legacySync(a, "a");
    a.ledger.add({ ...gone }); // listed again: an update from the deletion mark
    a.ledger.update(newest[1]!.id, { description: "changed twice" });
    await legacySync(a, "a");

    await legacySync(b, "b");
    b.ledger.update(b.ledger.all()[0]!.id, { amount: "-7.500000" } as never);
    b.ledger.remove(b.ledger.all()[1]!.id);
    await legacySync(b, "b");

    // The old key's defect: d's run takes over every row c's run stored, both succeed.
    await legacySync(c, "c");
    await legacySync(c, "d");

    versionsBefore = await query(db.url, versionsSql);
    rowsBefore = await query(db.url, rowsSql);
    expect(rowsBefore.filter((r) => r.account === "c")).toEqual([]);
    // Storage v2, then whatever this release adds after it (the sync below writes that schema).
    const later = (await readdir(migrationsDir)).filter((name) => /^\d{14}_/.test(name) && name >= storageV2).sort();
    for (const name of later) await query(db.url, await migration(name));
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), c?.close()]);
    await db?.drop();
  });

  test("every row is kept, field by field, and c's overwritten rows are back as c held them", async () => {
    const rowsAfter = await query(db.url, rowsSql);
    expect(rowsAfter.filter((r) => r.account !== "c")).toEqual(rowsBefore);
    expect(rowsAfter.filter((r) => r.account === "c")).toHaveLength(c.ledger.size);
    await expectDatabaseEqualsLedger(db.url, a, "a");
    await expectDatabaseEqualsLedger(db.url, b, "b");
    await expectDatabaseEqualsLedger(db.url, c, "c");
    await expectDatabaseEqualsLedger(db.url, c, "d");
  });

  test("every version reads back the same through the view, only d's takeovers are now its inserts", async () => {
    const versionsAfter = await query(db.url, versionsSql);
    const expected = versionsBefore.map((v) => (v.account === "d" && v.change === "update" ? { ...v, change: "insert" } : v));
    expect(versionsAfter).toEqual(expected);
    expect(versionsBefore.filter((v) => v.change === "delete").length).toBeGreaterThanOrEqual(3);
    expect(versionsBefore.filter((v) => v.change === "update" && v.account !== "d").length).toBeGreaterThanOrEqual(4);
    const history = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM transaction_history");
    expect(history[0]!.n).toBe(versionsBefore.length - rowsBefore.length - c.ledger.size);
    await expectVersionsConsistent(db.url);
  });

  test("transactions_as_of returns account a's ledger as it was held between its runs", async () => {
    const held = await query<{ raw: string }>(
      db.url,
      "SELECT raw FROM transactions_as_of($1) WHERE account = 'a' AND deleted_at IS NULL ORDER BY raw",
      [between],
    );
    expect(held.map((r) => r.raw)).toEqual(servedBetween);
    const now = await query<{ n: number }>(
      db.url,
      `
      SELECT count(*)::int AS n FROM (SELECT * FROM transactions_as_of(now()) EXCEPT
        SELECT account, id, created_at, updated_at, status, balance_type, amount, description, after_balance, raw,
               first_seen_at, last_seen_at, deleted_at, last_run_id, version_id FROM transactions) d`,
    );
    expect(now[0]!.n).toBe(0);
  });

  test("the next sync of this release finds nothing to change in any account", async () => {
    for (const [sim, account] of [
      [a, "a"],
      [b, "b"],
      [c, "c"],
      [c, "d"],
    ] as const) {
      expect(await syncOnce(db.url, sim, { windowMs: days(10), account })).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
      await expectDatabaseEqualsLedger(db.url, sim, account);
      // verify's reading of the deletion marks and the history's validity holds for migrated versions too.
      expect(await query(db.url, versionMarksSql, [account])).toEqual([]);
    }
    const versionsNow = await query(db.url, versionsSql);
    expect(versionsNow).toEqual(versionsBefore.map((v) => (v.account === "d" && v.change === "update" ? { ...v, change: "insert" } : v)));
  });
});
