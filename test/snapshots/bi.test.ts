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
