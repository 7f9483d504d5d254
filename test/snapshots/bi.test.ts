import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { withDatabase } from "../../src/config/database-url.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { seededSimulator, syncOnce, testToken } from "../helpers/sync.js";
import { days } from "../helpers/time.js";

const biRelations = [
  "transactions",
  "transaction_history",
  "transaction_versions",
  "spent_credit_snapshots",
  "spent_credit_captures",
  "sync_runs",
  "sync_state",
  "spent_credits_daily",
  "credit_reconciliation_daily",
  "daily_spend_by_balance_type",
  "running_balance",
  "daily_closing_balance",
  "top_ups_and_refunds",
  "ledger_rollups",
  "ledger_daily_rollups",
  "ledger_rollup_zones",
  "daily_ledger_rollups",
  "balance_checkpoints",
  "balance_checkpoint_values",
  "proof_chain",
  "audit_sweeps",
  "balance_chain",
  "balance_chain_rule",
  "balance_chain_breaks",
];

describe("BI-ready schema", () => {
  // Roles are server-wide: a name of its own, so parallel runs and leftovers never meet.
  const readerRole = `gs_bi_reader_${process.pid}_${Date.now() % 100000}`;
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("bi");
    sim = await seededSimulator(51, 1200, 200);
    await syncOnce(db.url, sim, { windowMs: days(30) }, { snapshots: true });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    await query(db.url.replace(/\/[^/?]+(\?|$)/, "/postgres$1"), `DROP ROLE IF EXISTS ${readerRole}`).catch(() => {});
  });

  test("every BI-facing table, view and column has a comment", async () => {
    const missing = await query<{ relation: string; column: string | null }>(
      db.url,
      `SELECT c.relname AS relation, NULL AS column FROM pg_class c
        WHERE c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace AND obj_description(c.oid, 'pg_class') IS NULL
       UNION ALL
       SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace AND col_description(c.oid, a.attnum) IS NULL
       ORDER BY 1, 2`,
      [biRelations],
    );
    expect(missing).toEqual([]);
  });

  test("the finance views answer from the ledger", async () => {
    const [spend] = await query<{ view: string; ledger: string }>(
      db.url,
      `SELECT (SELECT sum(credits_spent) FROM daily_spend_by_balance_type)::text AS view,
              (SELECT -sum(amount) FROM transactions WHERE amount < 0 AND status = 'success')::text AS ledger`,
    );
    expect(spend!.view).toBe(spend!.ledger);
    const newest = sim.ledger.all()[0]!;
    const [closing] = await query<{ closing: string }>(
      db.url,
      `SELECT closing_balance::text AS closing FROM daily_closing_balance WHERE balance_type = $1 ORDER BY day DESC LIMIT 1`,
      [newest.balance_type],
    );
    expect(Number(closing!.closing)).toBe(Number(newest.after_balance));
    const money = await query<{ kind: string; n: string }>(
      db.url,
      "SELECT kind, count(*)::text AS n FROM top_ups_and_refunds GROUP BY kind ORDER BY kind",
    );
    const positive = sim.ledger.all().filter((r) => !r.amount.startsWith("-") && r.amount !== "0");
    expect(money.reduce((sum, m) => sum + Number(m.n), 0)).toBe(positive.length);
    expect(money.map((m) => m.kind)).toContain("top_up");
    const [running] = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM running_balance");
    expect(Number(running!.n)).toBe(sim.ledger.size);
  });

  test("the README's example queries run", async () => {
    const readme = await readFile(path.join(repoRoot, "README.md"), "utf8");
    const statements = [...readme.matchAll(/```sql\n([\s\S]*?)```/g)]
      .flatMap((m) => m[1]!.split(";"))
      .map((s) => s.trim())
      .filter((s) => s.replace(/--.*$/gm, "").trim());
    expect(statements.length).toBeGreaterThanOrEqual(6);
    for (const sql of statements) await expect(query(db.url, sql)).resolves.toBeDefined();
  });

  test("grant-reader makes a role that reads the BI relations and cannot write", async () => {
    const env = { DATABASE_URL: db.url, READER_PW: "reader-pass-7731" };
    const first = await runCli(["grant-reader", readerRole, "--password-env", "READER_PW"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created read-only role ${readerRole} (can log in)`);
    expect(first.stdout + first.stderr).not.toContain("reader-pass-7731");
    const again = await runCli(["grant-reader", readerRole, "--password-env", "READER_PW"], env);
    expect(again.stdout).toContain(`updated read-only role ${readerRole}`);

    const reader = new URL(db.url);
    reader.username = readerRole;
    reader.password = "reader-pass-7731";
    const client = new pg.Client({ connectionString: withDatabase(reader.toString(), new URL(db.url).pathname.slice(1)) });
    await client.connect();
    try {
      for (const relation of biRelations) {
        await expect(client.query(`SELECT count(*) FROM ${relation}`)).resolves.toBeDefined();
      }
      for (const call of [
        "ledger_accounts()",
        "ledger_days('Asia/Kolkata')",
        "transactions_as_of(now())",
        "ledger_balance_at('acct', 'platform', now())",
      ]) {
        await expect(client.query(`SELECT count(*) FROM ${call}`)).resolves.toBeDefined();
      }
      const denied = async (sql: string) => {
        const error = await client.query(sql).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.message).toMatch(/permission denied|read-only transaction/);
      };
      await denied(
        "INSERT INTO transactions (id, account, created_at, updated_at, status, balance_type, amount, description, after_balance, raw) VALUES (gen_random_uuid(), 'x', now(), now(), 'success', 'p', 1, '', 1, '{}')",
      );
      await denied("UPDATE sync_state SET watermark = now()");
      await denied("DELETE FROM transaction_history");
      await denied("CREATE TABLE mine (x int)");
      await denied("SELECT * FROM _prisma_migrations");
      await client.query("SET default_transaction_read_only = off"); // even when it lifts read-only, grants hold
      await denied("INSERT INTO sync_runs (account, command, status) VALUES ('x', 'y', 'z')");
    } finally {
      await client.end();
    }
    expect((await runCli(["grant-reader", "Bad Name"], env)).code).toBe(2);
    void testToken;
  });
});

// generate_series over two dates resolves to its timestamptz form, which steps from local midnight
// in the session's TimeZone: where a DST change skips midnight (America/Santiago on 2026-09-06,
// America/Havana on 2026-03-08) the series moves to 01:00 and a span's last day was left out. BI
// tools set the session's zone (Metabase's report time zone does): the days must not depend on it.
describe("the daily views in a session whose TimeZone skips midnight", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("bi-zones");
    // Few rows from 2026-02-12 to 2026-08-31, so that balance types have quiet spans across
    // 2026-03-08, and every type's last span (to the watermark's day) crosses 2026-09-06.
    sim = await seededSimulator(53, 120, 200, { to: new Date("2026-08-31T12:00:00Z") });
    await syncOnce(db.url, sim, { windowMs: days(30) }, { snapshots: true });
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  async function readViews(zone: string): Promise<{ closing: string[]; reconciliation: string[] }> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`SET TimeZone = '${zone}'`);
      const rows = async (sql: string) => (await client.query<{ row: string }>(sql)).rows.map((r) => r.row);
      return {
        closing: await rows("SELECT v::text AS row FROM daily_closing_balance v ORDER BY v.account, v.balance_type, v.day"),
        reconciliation: await rows("SELECT v::text AS row FROM credit_reconciliation_daily v ORDER BY v.account, v.timezone, v.day"),
      };
    } finally {
      await client.end();
    }
  }

  test("daily_closing_balance and credit_reconciliation_daily list the same days as in UTC", async () => {
    const utc = await readViews("UTC");
    // In UTC every balance type is listed from its first day with rows to the watermark's day,
    // through quiet spans that cross both zones' skipped midnights, and the capture's days are all listed.
    const [closing] = await query<{ gaps: number; types: number; last_ok: boolean; quiet_0308: boolean; quiet_0906: boolean }>(
      db.url,
      `SELECT count(*) FILTER (WHERE n <> last - first + 1)::int AS gaps, count(*)::int AS types,
              bool_and(last = (SELECT ((watermark - interval '1 microsecond') AT TIME ZONE 'UTC')::date FROM sync_state
                               WHERE account = 'acct' AND stream = 'transactions')) AS last_ok,
              bool_or(quiet_0308) AS quiet_0308, bool_or(quiet_0906) AS quiet_0906
       FROM (SELECT balance_type, count(*) AS n, min(day) AS first, max(day) AS last,
                    bool_or(day = '2026-03-08' AND NOT had_rows) AS quiet_0308, bool_or(day = '2026-09-06' AND NOT had_rows) AS quiet_0906
             FROM daily_closing_balance GROUP BY 1) t`,
    );
    expect(closing).toEqual({ gaps: 0, types: expect.any(Number), last_ok: true, quiet_0308: true, quiet_0906: true });
    expect(closing!.types).toBeGreaterThan(1);
    const [covered] = await query<{ days: number; listed: number }>(
      db.url,
      `SELECT (SELECT max(end_day) - min(start_day) + 1 FROM spent_credit_captures)::int AS days,
              (SELECT count(*) FROM credit_reconciliation_daily)::int AS listed`,
    );
    expect(covered!.days).toBeGreaterThan(200);
    expect(covered!.listed).toBe(covered!.days);
    expect(utc.reconciliation).toHaveLength(covered!.days);

    const zones = ["America/Santiago", "America/Havana"];
    const read = new Map<string, Awaited<ReturnType<typeof readViews>>>();
    for (const zone of zones) read.set(zone, await readViews(zone));
    const without = (a: string[], b: string[]) => a.filter((row) => !b.includes(row));
    const compared = zones.map((zone) => {
      const { closing, reconciliation } = read.get(zone)!;
      return {
        zone,
        missing: { closing: without(utc.closing, closing), reconciliation: without(utc.reconciliation, reconciliation) },
        extra: { closing: without(closing, utc.closing), reconciliation: without(reconciliation, utc.reconciliation) },
      };
    });
    expect(compared).toEqual(
      zones.map((zone) => ({ zone, missing: { closing: [], reconciliation: [] }, extra: { closing: [], reconciliation: [] } })),
    );
    for (const zone of zones) expect(read.get(zone)).toEqual(utc);
  });
});
