// Scenario 10: Postgres refusing new connections for a while. The run's connections are terminated
// and, for ~5 s, every new one is refused: by a database that does not accept connections (55000,
// as during maintenance) or by a role over its CONNECTION LIMIT (53300, as a server out of
// connections answers). The job is the real CLI: the refusals are retried like a lost connection,
// the run succeeds, and the database equals the ledger. Past the reconnect budget the run fails as
// DB_UNAVAILABLE, and its end is still recorded, on a connection opened once the server is back.
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { describeDifference } from "../../src/proofs/against-ledger.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/time.js";
import { adminUrl, createMigratedDatabase, grantTablesTo, query, type TestDatabase } from "../helpers/database.js";
import { compareDatabaseWithLedger, expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { days, hourMs } from "../helpers/time.js";
import {
  cli,
  expectFirstRunTruthful,
  expectVersionsConsistent,
  guardCliOutput,
  registerSecret,
  sleep,
  syncLogged,
  testToken,
  watermarkOf,
} from "./support.js";

guardCliOutput();

const outageMs = 5_000;

interface Refusal {
  name: string;
  /** What Postgres says to a refused connection. */
  says: RegExp;
  block(db: TestDatabase, role: string): Promise<void>;
  unblock(db: TestDatabase, role: string): Promise<void>;
}

/** Ends every session on the test database, as a failover or a restart does. */
async function terminateSessions(db: TestDatabase): Promise<void> {
  await query(adminUrl(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [
    db.name,
  ]);
}

const refusals: Refusal[] = [
  {
    name: "the database does not accept connections (55000)",
    says: /database \\?"[^"\\]+\\?" is not currently accepting connections/, // JSON-escaped in a log line
    block: async (db) => {
      await query(adminUrl(), `ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
      await terminateSessions(db);
    },
    unblock: (db) => query(adminUrl(), `ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).then(() => {}),
  },
  {
    name: "the role is over its connection limit (53300)",
    says: /too many connections for role/,
    block: async (db, role) => {
      await query(adminUrl(), `ALTER ROLE ${role} CONNECTION LIMIT 0`);
      await terminateSessions(db);
    },
    unblock: (_db, role) => query(adminUrl(), `ALTER ROLE ${role} CONNECTION LIMIT -1`).then(() => {}),
  },
];

describe("Postgres refusing connections", () => {
  // A throwaway login role, so a connection limit can bite (superusers are exempt from it).
  const role = `gs_refused_${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(12).toString("hex")}`;
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let roleUrl: string;
  let pending: Promise<void> | undefined;

  async function freshDatabase(): Promise<void> {
    db = await createMigratedDatabase("faults-refusal");
    roleUrl = await grantTablesTo(db, role, password);
  }

  beforeAll(async () => {
    registerSecret(password);
    await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  });
  afterEach(async () => {
    await pending?.catch(() => {});
    pending = undefined;
    await sim?.close();
    await db?.drop();
  });
  afterAll(async () => {
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`).catch(() => {});
  });

  test.each(refusals)(
    "$name for ~5 s mid-run: retried, the run succeeds, the database equals the ledger, and the next run too",
    async (refusal) => {
      await freshDatabase();
      sim = await seededSimulator(1101, 1500, 60, { faults: { latencyMs: 10 } });
      let pages = 0;
      let triggered = false;
      let blockedAt = 0;
      let unblockedAt = 0;
      sim.faults.beforePage = async ({ query: q }) => {
        if (!q.has("created_at__gte") || triggered || ++pages < 8) return;
        triggered = true; // pages are requested concurrently: one of them blocks
        await refusal.block(db, role); // this page is answered once the sessions are gone
        blockedAt = Date.now();
        pending = sleep(outageMs).then(async () => {
          await refusal.unblock(db, role);
          unblockedAt = Date.now();
        });
      };
      const env = {
        DATABASE_URL: roleUrl,
        GENERECT_API_URL: sim.url,
        GENERECT_API_TOKEN: testToken,
        SYNC_ACCOUNT: "acct",
        SYNC_WINDOW: "7d",
      };
      const result = await cli(["run"], env).done;
      const endedAt = Date.now();
      await pending;
      sim.faults.beforePage = undefined;
      if (result.code !== 0) throw new Error(`run failed (${result.code}):\n${result.stderr.slice(-3000)}`);
      expect(blockedAt).toBeGreaterThan(0);
      expect(endedAt).toBeGreaterThan(unblockedAt); // it waited the refusal out
      expect(unblockedAt - blockedAt).toBeGreaterThanOrEqual(outageMs);
      expect(result.stderr).toContain("lost the database connection: retrying the window");
      expect(result.stderr).toMatch(refusal.says);

      await expectDatabaseEqualsLedger(db.url, sim);
      await expectVersionsConsistent(db.url);
      const [first, ...others] = await syncRuns(db.url);
      expect(others).toEqual([]);
      await expectFirstRunTruthful(db.url, first!);
      expect(first!.rows_inserted).toBe(sim.ledger.size);

      // The ledger moves on inside the lookback; the next run, undisturbed, converges.
      const changed = sim.ledger
        .all()
        .filter((r) => Date.parse(`${r.created_at}Z`) > Date.now() - 12 * hourMs)
        .slice(0, 3);
      expect(changed.length).toBeGreaterThan(0);
      for (const row of changed)
        sim.ledger.update(row.id, {
          status: row.status === "pending" ? "success" : row.status,
          description: `${row.description} (edited)`,
        });
      sim.ledger.add({ amount: "-1.25" });
      const next = await cli(["run"], env).done;
      expect(next.code).toBe(0);
      await expectDatabaseEqualsLedger(db.url, sim);
      await expectVersionsConsistent(db.url);
      const all = await syncRuns(db.url);
      expect(all.map((r) => [r.status, r.error_code, r.finished_at !== null])).toEqual([
        ["succeeded", null, true],
        ["succeeded", null, true],
      ]);
    },
    150_000,
  );

  test("refused past the reconnect budget: the run fails as DB_UNAVAILABLE and its end is recorded once the server is back", async () => {
    await freshDatabase();
    sim = await seededSimulator(1102, 900, 30);
    const windows: string[] = [];
    let unblockedAt = 0;
    const refusal = refusals[0]!;
    sim.faults.beforePage = async ({ query: q }) => {
      const gte = q.get("created_at__gte");
      if (gte === null || windows.includes(gte)) return;
      windows.push(gte);
      if (windows.length !== 3) return;
      await refusal.block(db, role);
      pending = sleep(2_000).then(async () => {
        await refusal.unblock(db, role);
        unblockedAt = Date.now();
      });
    };
    // In process, with one reconnect attempt per window, so the budget is spent within the outage.
    const failed = await syncLogged(roleUrl, sim, { windowMs: days(5) }, { databaseRetries: 1 });
    await pending;
    sim.faults.beforePage = undefined;
    expect(failed.error?.code).toBe("DB_UNAVAILABLE");
    expect(failed.error!.message).toMatch(
      /the database stayed unavailable after 2 attempts \(55000: database "[^"]+" is not currently accepting connections\)/,
    );
    expect(failed.log).toContain("the database is unavailable: retrying the run's record");

    const [run, ...others] = await syncRuns(db.url);
    expect(others).toEqual([]);
    // The outage began at the third window's first page; the second may still have been committing
    // (the next window's walk starts under the current one's tail): then it is the one that failed.
    const mark = await watermarkOf(db.url);
    expect(windows.slice(1, 3)).toContain(mark);
    expect(run).toMatchObject({ status: "failed", error_code: "DB_UNAVAILABLE", windows_walked: windows.indexOf(mark!) });
    expect(run!.error_message).toMatch(/stayed unavailable/);
    expect(run!.finished_at).not.toBeNull();
    expect(run!.finished_at!.getTime()).toBeGreaterThanOrEqual(unblockedAt - 1_000); // written after the server came back (clocks to the second)

    // What was committed is the ledger's, field by field, up to the watermark; nothing after it.
    const before = parseTimestamp(mark!)! / 1000;
    const committed = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) < before);
    expect(committed.length).toBeGreaterThan(0);
    expect(describeDifference(await compareDatabaseWithLedger(db.url, "acct", committed))).toBe(`equal: ${committed.length} rows`);
    expect(run!.rows_inserted).toBe(committed.length);

    const clean = await syncLogged(roleUrl, sim, { windowMs: days(5) });
    if (clean.error) throw clean.error;
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    const [, second] = await syncRuns(db.url);
    expect(second).toMatchObject({ status: "succeeded", error_code: null, rows_inserted: sim.ledger.size - committed.length });
    expect(second!.finished_at).not.toBeNull();
  }, 120_000);

  test("every session lost outside the windows (while users/me, then spent credits, are read): each step is retried and the run succeeds whole", async () => {
    await freshDatabase();
    sim = await seededSimulator(1004, 300, 20);
    const cutOn = new Set(["/api/auth/users/me/", "/api/auth/transactions/spent_credits/"]);
    const [refused] = refusals;
    sim.faults.intercept = async ({ path }) => {
      // Once per path, before it is answered: the run's sessions end and, for 600 ms, no new one is
      // let in, so the run's next statement meets the refusal whatever the pool kept.
      if (cutOn.delete(path)) {
        await refused!.block(db, role);
        pending = sleep(600).then(() => refused!.unblock(db, role));
      }
      return undefined;
    };
    const outcome = await syncLogged(db.url, sim, { windowMs: days(7) }, { snapshots: true });
    await pending;
    if (outcome.error) throw outcome.error;
    expect(cutOn.size).toBe(0);
    expect(outcome.log).toMatch(/lost the database connection: retrying the checkpoint/);
    expect(outcome.log).toMatch(/lost the database connection: retrying (the spent credits|the capture zone's rollups|reading the)/);
    await expectDatabaseEqualsLedger(db.url, sim);
    // The checkpoint is whole: its balances beside it.
    const [checkpoint] = await query<{ outcome: string; fields: number }>(
      db.url,
      "SELECT c.outcome, (SELECT count(*)::int FROM balance_checkpoint_values v WHERE v.checkpoint_id = c.id) AS fields FROM balance_checkpoints c",
    );
    expect(checkpoint!.outcome).toBe("captured");
    expect(checkpoint!.fields).toBeGreaterThan(0);
    expect(outcome.summary!.snapshots!.rows).toBeGreaterThan(0);
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({ status: "succeeded", error_code: null });
  });
});
