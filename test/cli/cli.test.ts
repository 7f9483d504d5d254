import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Ledger, seedTransactions, type SimulatorHandle } from "../../src/simulator/index.js";
import { createTestDatabase, query, type TestDatabase } from "../helpers/database.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { readMigrations } from "../../src/db/migrate.js";
import { startTestSimulator, testToken } from "../helpers/sync.js";

describe("generect-sync CLI", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase("cli");
    const to = new Date(Date.now() - 60_000);
    sim = await startTestSimulator({ ledger: new Ledger(seedTransactions({ seed: 9, rows: 300, from: new Date(to.getTime() - 20 * 86_400_000), to })) });
    env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("migrate on an empty database, then again: idempotent, recorded like prisma migrate deploy", async () => {
    const names = (await readMigrations()).migrationDirectories.map((m) => m.path);
    expect(names[0]).toMatch(/^\d{14}_init$/);
    const first = await runCli(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`applied ${names.length} migration(s): ${names.join(", ")}`);
    const again = await runCli(["migrate"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("database schema is up to date");
    const migrations = await query<{ migration_name: string; finished: boolean; rolled_back: boolean; steps: number }>(
      db.url,
      "SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count AS steps FROM _prisma_migrations",
    );
    expect(migrations).toEqual(names.map((migration_name) => ({ migration_name, finished: true, rolled_back: false, steps: 1 })));
    const tables = await query<{ table_name: string }>(db.url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1");
    expect(tables.map((t) => t.table_name)).toEqual(["_prisma_migrations", "quarantined_rows", "spent_credit_captures", "spent_credit_snapshots", "sync_runs", "sync_state", "transaction_history", "transactions"]);
    const columns = await query<{ column_name: string; data_type: string }>(
      db.url,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'transactions' AND column_name IN ('amount', 'after_balance', 'created_at', 'updated_at', 'raw', 'id') ORDER BY 1",
    );
    expect(columns).toEqual([
      { column_name: "after_balance", data_type: "numeric" },
      { column_name: "amount", data_type: "numeric" },
      { column_name: "created_at", data_type: "timestamp with time zone" },
      { column_name: "id", data_type: "uuid" },
      { column_name: "raw", data_type: "text" },
      { column_name: "updated_at", data_type: "timestamp with time zone" },
    ]);
    const indexes = await query<{ indexdef: string }>(db.url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'transactions'");
    const defs = indexes.map((i) => i.indexdef).join("\n");
    // Storage v2: every key starts with the account; whole-ledger indexes are gone (see the migration).
    expect(indexes.map((i) => i.indexdef.replace(/^.* USING btree /, "")).sort()).toEqual(["(account, balance_type, created_at)", "(account, created_at)", "(account, id)"]);
  });

  test("run syncs, prints a summary, and status reports it (text and JSON)", async () => {
    const run = await runCli(["run"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/run #\d+ succeeded: \d+ window\(s\), \d+ page\(s\), 300 rows seen \(300 inserted, 0 updated, 0 unchanged, 0 deleted\)/);
    expect(run.stderr).toContain('"msg":"window committed"'); // JSON logs off a TTY
    expect(run.stdout + run.stderr).not.toContain(testToken);

    const status = await runCli(["status"], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/watermark \d{4}-\d\d-\d\dT.* \(\d+s behind now\)/);
    expect(status.stdout).toContain("transactions 300");
    expect(status.stdout).toMatch(/#\d+ succeeded/);
    const json = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    expect(json).toMatchObject({
      account: "acct", transactions: 300, runs: [{ status: "succeeded", inserted: 300 }],
      snapshots: { timezone: "UTC", lastCapturedDay: new Date().toISOString().slice(0, 10) },
      reconciliation: { daysDiffering: 0 },
    });
    expect(json.reconciliation.daysCompared).toBeGreaterThanOrEqual(19);
    expect(json.lastSuccessAt).not.toBeNull();
    expect(status.stdout).toMatch(/reconciliation: ledger agrees with Generect on \d+ days/);
  });

  test("run refuses an unmigrated database with a hint", async () => {
    const empty = await createTestDatabase("cli-empty");
    try {
      const result = await runCli(["run"], { ...env, DATABASE_URL: empty.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("run `generect-sync migrate` first");
    } finally {
      await empty.drop();
    }
  });

  test("bad configuration exits 2 naming the variable, before touching anything", async () => {
    const before = sim.stats.requests;
    for (const [name, value] of [["SYNC_WINDOW", "7x"], ["SYNC_CONCURRENCY", "0"], ["SYNC_START", "soon"], ["GENERECT_API_URL", "nope"]] as const) {
      const result = await runCli(["run"], { ...env, [name]: value });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(name);
    }
    const missing = await runCli(["run"], { ...env, GENERECT_API_TOKEN: "" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("GENERECT_API_TOKEN is not set");
    const badUrl = await runCli(["run"], { ...env, DATABASE_URL: "mysql://root:s3cretpass@db/x" });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).not.toContain("s3cretpass");
    expect(sim.stats.requests).toBe(before);
  });

  test("help for every command, and usage errors", async () => {
    for (const command of ["migrate", "run", "snapshot", "worker", "reconcile", "statement", "status", "grant-reader", "metrics", "simulate", "demo"]) {
      const help = await runCli([command, "--help"], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: generect-sync ${command}`);
    }
    const top = await runCli(["--help"], {});
    expect(top.stdout).toContain("Commands:");
    expect((await runCli(["frobnicate"], {})).code).toBe(2);
    expect((await runCli(["status", "--bogus"], env)).code).toBe(2);
  });
});

describe("with no DATABASE_URL", () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "gs-home-"));
    await chmod(home, 0o755); // as root, the embedded server runs as "postgres" and must enter it
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  test("demo starts an embedded Postgres, syncs the simulator, and finds them equal", async () => {
    const result = await runCli(["demo", "--rows", "1500"], { GENERECT_SYNC_HOME: home });
    expect(result.code).toBe(0);
    const password = decodeURIComponent(new URL((await readFile(path.join(home, "database-url"), "utf8")).trim()).password);
    expect(password.length).toBeGreaterThan(8);
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(result.stdout).toContain("database equals the simulator's ledger: 1500 rows, every field");
    expect(result.stderr).toMatch(/embedded Postgres at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres/);

    // The data directory persists: status finds the demo's run in it.
    const status = await runCli(["status"], { GENERECT_SYNC_HOME: home, SYNC_ACCOUNT: "demo" });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("transactions 1500");
  }, 120_000);
});

describe("the installed bin", () => {
  test("runs through its shebang (env -S with the heap flags), as npx and npm's bin links run it", async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(path.join(repoRoot, "bin/generect-sync.js"), ["--help"], {
        env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME },
      }, (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: generect-sync/m);
  });
});
