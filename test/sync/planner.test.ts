import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";

// A window joins a page to the account's rows by key. On tables without statistics (autovacuum off,
// or a table just backfilled) the planner took the account for a few rows, read all of them for
// each statement and compared them with every incoming row: seconds per page at 20,000 rows.

const rows = 20_000;

/**
 * Rows of transactions read by scans so far. A session's counters reach the server when it ends,
 * which may be just after the run that closed it returned: read until two reads agree.
 */
async function tuplesRead(url: string): Promise<number> {
  const read = async () =>
    Number(
      (
        await query<{ n: string }>(
          url,
          "SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n FROM pg_stat_user_tables WHERE relname = 'transactions'",
        )
      )[0]!.n,
    );
  let last = await read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await read();
    if (now === last) return now;
    last = now;
  }
}

describe("a window's statements on tables without statistics", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("planner");
    // Never analyzed, as on a server with autovacuum off: the planner has only the tables' sizes.
    await query(db.url, "ALTER TABLE transactions SET (autovacuum_enabled = false)");
    await query(db.url, "ALTER TABLE transaction_history SET (autovacuum_enabled = false)");
    sim = await seededSimulator(41, rows, 20, { to: new Date(Date.now() - 60_000) });
    await syncOnce(db.url, sim, { windowRows: 5_000 });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("an incremental run with changes reads the changed rows by key, not the whole ledger", async () => {
    const [analyzed] = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'transactions'");
    expect(analyzed!.n).toBe(0);
    const recent = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) > Date.now() - 20 * 3_600_000);
    const changed = recent.slice(0, 400);
    expect(changed.length).toBe(400);
    for (const row of changed) sim.ledger.update(row.id, { description: `${row.description ?? ""} (amended)` });

    const before = await tuplesRead(db.url);
    const summary = await syncOnce(db.url, sim);
    expect(summary.updated).toBe(changed.length);
    const read = (await tuplesRead(db.url)) - before;
    expect(read).toBeGreaterThan(0);
    // The run reads the lookback's rows and the changed ones by key. Planned from no statistics,
    // the statements read the account's rows again for each statement and compared them with every
    // incoming row (146,602-200,402 rows read here), and an UPDATE joined on ctid alone hashed a
    // scan of the table (25,027).
    expect(read).toBeLessThan(rows / 2);
    await expectDatabaseEqualsLedger(db.url, sim);
  });
});
