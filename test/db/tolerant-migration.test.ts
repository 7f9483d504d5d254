// The tolerant-ingestion migration on a database written by the previous release (raw as jsonb):
// every row and version is kept, raw becomes the text the API sends (number literals with their
// scale, keys in the API's order), and the next sync finds nothing changed.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { migrationsDir } from "../../src/db/paths.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createTestDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce, syncRuns } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

const before = ["20261122000000_init", "20261122010000_snapshots_reconciliation_bi"];
const tolerant = "20261127010000_tolerant_ingestion";

const migration = (name: string) => readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");

/** What the previous release's loader wrote: the served row cast to jsonb, one insert version each. */
const oldLoadSql = `
WITH runs AS (INSERT INTO sync_runs (account, command, status) VALUES ('acct', 'run', 'succeeded') RETURNING id),
rows AS (
  INSERT INTO transactions (id, account, created_at, updated_at, status, balance_type, amount, description, after_balance, raw, last_run_id)
  SELECT (r->>'id')::uuid, 'acct', (r->>'created_at')::timestamp AT TIME ZONE 'UTC', (r->>'updated_at')::timestamp AT TIME ZONE 'UTC',
         r->>'status', r->>'balance_type', (r->>'amount')::numeric, r->>'description', (r->>'after_balance')::numeric, r, (SELECT id FROM runs)
  FROM jsonb_array_elements($1::jsonb) r
  RETURNING *
)
INSERT INTO transaction_versions (id, account, seen_at, run_id, created_at, updated_at, status, balance_type, amount, description, after_balance, raw, change)
SELECT id, account, now(), last_run_id, created_at, updated_at, status, balance_type, amount, description, after_balance, raw, 'insert' FROM rows`;

describe("migration 20261127010000_tolerant_ingestion", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createTestDatabase("tolerant-migration");
    for (const name of before) await query(db.url, await migration(name));
    const to = new Date(Date.now() - 60_000);
    sim = await seededSimulator(77, 150, 10, { to });
    for (const text of ['say "hi"', "C:\\temp\\", "naïve ☕ 🚀", "line\nbreak", "\u0001 control"])
      sim.ledger.add({ created_at: new Date(to.getTime() - dayMs), description: text });
    // A literal the old jsonb kept with its scale (-10.100000): the new text must keep it too.
    sim.ledger.setOdd(sim.ledger.all()[3]!.id, "reformatted-amount");
    await query(db.url, oldLoadSql, [
      `[${sim.ledger
        .all()
        .map((row) => sim.ledger.served(row))
        .join(",")}]`,
    ]);
    await query(db.url, await migration(tolerant));
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("every row and version kept, raw now the exact text the API sends", async () => {
    const held = await query<{ id: string; raw: string; versions: string[] }>(
      db.url,
      `
      SELECT t.id::text, t.raw, array_agg(v.raw ORDER BY v.version_id) AS versions
      FROM transactions t JOIN transaction_versions v USING (id) GROUP BY t.id, t.raw`,
    );
    expect(held).toHaveLength(sim.ledger.size);
    for (const row of held) {
      const served = sim.ledger.served(sim.ledger.get(row.id)!);
      expect({ id: row.id, raw: row.raw, versions: row.versions }).toEqual({ id: row.id, raw: served, versions: [served] });
    }
    const [types] = await query<{ raw: string; nullable: string }>(
      db.url,
      `
      SELECT format_type(atttypid, atttypmod) AS raw,
             (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = 'transactions'::regclass AND attnum > 0 AND NOT attnotnull) AS nullable
      FROM pg_attribute WHERE attrelid = 'transactions'::regclass AND attname = 'raw'`,
    );
    expect(types).toEqual({ raw: "text", nullable: "after_balance,deleted_at,description,last_run_id,updated_at" });
  });

  test("the next sync, after the later migrations, finds every row unchanged: no new version", async () => {
    // Today's code needs today's schema: the migrations after this one are applied as a user's upgrade would.
    const later = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name > tolerant)
      .map((e) => e.name)
      .sort();
    for (const name of later) await query(db.url, await migration(name));
    const summary = await syncOnce(db.url, sim, { windowMs: days(5) });
    expect(summary).toMatchObject({ inserted: 0, updated: 0, deleted: 0, rejected: 0, unchanged: sim.ledger.size });
    const [versions] = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM transaction_versions");
    expect(Number(versions!.n)).toBe(sim.ledger.size);
    await expectDatabaseEqualsLedger(db.url, sim);
    expect((await syncRuns(db.url)).map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
  });
});
