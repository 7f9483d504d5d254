import { execFile, execFileSync, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { minimumNodeMajor, nodeVersionProblem } from "../../src/cli/node-version.js";
import { readMigrations } from "../../src/db/migrate.js";
import { clearDemoSql } from "../../src/db/sql/demo.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { waitFor } from "../faults/support.js";
import { oldNode, repoRoot, runCli, spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, createTestDatabase, query, type TestDatabase } from "../helpers/database.js";
import { seededSimulator, testToken } from "../helpers/sync.js";
import { dayMs } from "../helpers/time.js";

const packageVersion: string = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")).version;

describe("generect-sync CLI", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase("cli");
    sim = await seededSimulator(9, 300, 20);
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
      "SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count AS steps FROM _prisma_migrations ORDER BY migration_name",
    );
    expect(migrations).toEqual(names.map((migration_name) => ({ migration_name, finished: true, rolled_back: false, steps: 1 })));
    const tables = await query<{ table_name: string }>(
      db.url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "_prisma_migrations",
      "audit_sweeps",
      "balance_checkpoint_values",
      "balance_checkpoints",
      "ledger_daily_rollups",
      "ledger_rollup_zones",
      "ledger_rollups",
      "proof_chain",
      "quarantined_rows",
      "spent_credit_captures",
      "spent_credit_snapshots",
      "sync_runs",
      "sync_state",
      "transaction_history",
      "transactions",
    ]);
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
    // Storage v2: every key starts with the account; whole-ledger indexes are gone (see the migration).
    // The two INCLUDE (amount) indexes: top_ups_and_refunds reads each kind index-only (20261128010000_money_in_covering).
    // (account, version_id): each committed window extends the proof chain by the versions after its last link.
    // No (account, balance_type, created_at): ledger_balance_at() reads the rollups (20261129030000_balance_lookups_from_rollups).
    expect(indexes.map((i) => i.indexdef.replace(/^.* USING btree /, "")).sort()).toEqual([
      "(account, created_at)",
      "(account, created_at) INCLUDE (amount) WHERE ((amount > (0)::numeric) AND (deleted_at IS NULL) AND (NOT COALESCE((description ~~* '%refund%'::text), false)))",
      "(account, created_at) INCLUDE (amount) WHERE ((amount > (0)::numeric) AND (deleted_at IS NULL) AND (description ~~* '%refund%'::text))",
      "(account, id)",
      "(account, version_id)",
    ]);
  });

  test("run syncs, prints a summary, and status reports it (text and JSON)", async () => {
    const before = new Date();
    const run = await runCli(["run"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /run #\d+ succeeded: \d+ window\(s\), \d+ page\(s\), 300 rows seen \(300 inserted, 0 updated, 0 unchanged, 0 deleted\)/,
    );
    expect(run.stderr).toContain('"msg":"window committed"'); // JSON logs off a TTY
    expect(run.stdout + run.stderr).not.toContain(testToken);

    const status = await runCli(["status"], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/watermark \d{4}-\d\d-\d\dT.* \(\d+s behind now\)/);
    expect(status.stdout).toContain("transactions 300");
    expect(status.stdout).toMatch(/#\d+ +succeeded/);
    const json = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    const after = new Date();
    expect(json).toMatchObject({
      version: packageVersion,
      account: "acct",
      transactions: 300,
      runs: [{ status: "succeeded", inserted: 300, version: packageVersion }],
      snapshots: { timezone: "UTC" },
      reconciliation: { daysDiffering: 0 },
    });
    // Today's UTC day when the run captured: the test may straddle midnight.
    expect([before, after].map((d) => d.toISOString().slice(0, 10))).toContain(json.snapshots.lastCapturedDay);
    // Compared: the UTC days from the oldest row's to the last one the watermark has passed. The
    // seeded ledger's oldest row lies 33 h into its 20 days, so that is 19 days before 14:40 UTC and
    // 18 after: counted from the simulator's truth, never typed in.
    const dayOf = (ms: number) => Math.floor(ms / dayMs);
    const oldest = Date.parse(`${sim.ledger.all().at(-1)!.created_at}Z`);
    expect(json.reconciliation.daysCompared).toBe(dayOf(Date.parse(json.watermark)) - dayOf(oldest));
    expect(json.reconciliation.daysCompared).toBeGreaterThanOrEqual(18);
    expect(json.lastSuccessAt).not.toBeNull();
    expect(status.stdout).toContain(`reconciliation: ledger agrees with Generect on ${json.reconciliation.daysCompared} days`);
  });

  test("--version, and the version in the run row and status", async () => {
    for (const flag of ["--version", "-v"]) {
      const result = await runCli([flag], {});
      expect(result).toMatchObject({ code: 0, stdout: `generect-sync ${packageVersion}\n`, stderr: "" });
    }
    const rows = await query<{ version: string | null }>(db.url, "SELECT version FROM sync_runs");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.version === packageVersion)).toBe(true);
  });

  test("status's runs stay aligned when run numbers change width", async () => {
    // The next run is #99999, the one after #100000: next to the first run, #1.
    await query(db.url, "SELECT setval('sync_runs_id_seq', 99998)");
    expect((await runCli(["run"], env)).code).toBe(0);
    expect((await runCli(["run"], env)).code).toBe(0);
    const status = await runCli(["status", "--runs", "3"], env);
    expect(status.code).toBe(0);
    const lines = status.stdout.split("\n");
    const table = lines.slice(lines.indexOf("last runs:") + 1).filter(Boolean);
    expect(table.map((l) => /#\d+/.exec(l)?.[0] ?? "header")).toEqual(["header", "#100000", "#99999", "#1"]);
    // Every column starts where its header does: the right edge of each number under its name's.
    const header = table[0]!;
    for (const name of ["status", "started", "version"]) {
      for (const row of table.slice(1)) {
        expect({ name, row, at: row[header.indexOf(name) - 1] === " " && row[header.indexOf(name)] !== " " }).toEqual({
          name,
          row,
          at: true,
        });
      }
    }
    for (const name of ["windows", "seen", "inserted", "requests", "retries"]) {
      const end = header.indexOf(name) + name.length;
      for (const row of table.slice(1)) {
        expect({ name, row, at: row[end - 1] !== " " && row[end] === " " }).toEqual({ name, row, at: true });
      }
    }
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
    for (const [name, value] of [
      ["SYNC_WINDOW", "7x"],
      ["SYNC_CONCURRENCY", "0"],
      ["SYNC_START", "soon"],
      ["GENERECT_API_URL", "nope"],
    ] as const) {
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
    for (const command of [
      "migrate",
      "run",
      "snapshot",
      "worker",
      "reconcile",
      "statement",
      "status",
      "grant-reader",
      "metrics",
      "db",
      "sql",
      "simulate",
      "demo",
    ]) {
      const help = await runCli([command, "--help"], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: generect-sync ${command}`);
      // Variable lists (run, worker: names with an underscore): every description starts in one column.
      const variables = help.stdout.split("\n").filter((l) => /^ {2}[A-Z][A-Z0-9]*_[A-Z0-9_]+ +\S/.test(l));
      if (command === "run" || command === "worker")
        expect(variables.map((l) => l.trim().split(" ")[0])).toContain("SNAPSHOT_RESTATE_DAYS");
      expect(new Set(variables.map((l) => /^ {2}[A-Z_]+ +/.exec(l)![0].length)).size).toBeLessThanOrEqual(1);
    }
    const top = await runCli(["--help"], {});
    expect(top.stdout).toContain("Commands:");
    // The summaries start in one column, whatever the length of the command's name.
    const listed = top.stdout.split("\n").filter((l) => /^ {2}[a-z-]+ {2,}\S/.test(l));
    expect(listed.map((l) => l.trim().split(/\s+/)[0])).toEqual(expect.arrayContaining(["grant-reader", "db", "sql", "migrate"]));
    expect(new Set(listed.map((l) => /^ {2}[a-z-]+ +/.exec(l)![0].length)).size).toBe(1);
    expect((await runCli(["frobnicate"], {})).code).toBe(2);
    expect((await runCli(["status", "--bogus"], env)).code).toBe(2);
  }, 120_000); // 15 CLI starts in a row: CPU-bound on a loaded 2-core machine
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
    expect({ code: result.code, failure: result.code ? result.stdout + result.stderr : "" }).toEqual({ code: 0, failure: "" });
    const password = decodeURIComponent(new URL((await readFile(path.join(home, "database-url"), "utf8")).trim()).password);
    expect(password.length).toBeGreaterThan(8);
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(result.stdout).toContain("database equals the simulator's ledger: 1500 rows, every field");
    expect(result.stderr).toMatch(/embedded Postgres at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres/);
    // The demo migrates once, itself: starting the embedded server does not migrate it beforehand.
    const names = (await readMigrations()).migrationDirectories.map((m) => m.path);
    expect(result.stderr.split("\n").filter((line) => /migration/.test(line))).toEqual([`applied ${names.length} migration(s)`]);

    // The data directory persists: status finds the demo's run in it.
    const status = await runCli(["status"], { GENERECT_SYNC_HOME: home, SYNC_ACCOUNT: "demo" });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("transactions 1500");
    // What the demo tells the user to do next works: sql on the stopped embedded server.
    expect(result.stdout).toContain(`npx generect-sync db`);
    const suggested = /npx generect-sync sql "(.*)"$/m.exec(result.stdout)![1]!;
    const answer = await runCli(["sql", suggested, "--json"], { GENERECT_SYNC_HOME: home });
    expect(answer.code).toBe(0);
    // The demo proved the database equal to its simulator, row by row: the groups hold its 1500 rows.
    const counted = JSON.parse(answer.stdout) as { balance_type: string; count: string; sum: string }[];
    expect(counted.length).toBeGreaterThan(1);
    expect(counted.reduce((n, r) => n + Number(r.count), 0)).toBe(1500);
    for (const row of counted) expect(row.sum).toMatch(/^-?\d+(\.\d+)?$/);
  }, 120_000);

  // A second demo in the same home (another ledger) starts over: nothing of the first is left in
  // any table that holds the account's rows, and the rollups and checkpoints are the new run's.
  test("a second demo in the same home clears the first from every table of the account", async () => {
    const twice = await mkdtemp(path.join(os.tmpdir(), "gs-home-")); // not `home`: later tests expect the first demo's rows
    try {
      await chmod(twice, 0o755);
      for (const args of [
        ["--rows", "500"],
        ["--rows", "900", "--seed", "7"],
      ]) {
        const result = await runCli(["demo", ...args], { GENERECT_SYNC_HOME: twice });
        expect({ code: result.code, failure: result.code ? result.stdout + result.stderr : "" }).toEqual({ code: 0, failure: "" });
      }
      const sql = `
        SELECT (SELECT count(*) FROM sync_runs WHERE account = 'demo') AS runs,
               (SELECT sum(live_rows) FROM ledger_rollups WHERE account = 'demo') AS bucket_rows,
               (SELECT sum(live_rows) FROM ledger_daily_rollups WHERE account = 'demo' AND timezone = 'UTC') AS daily_rows,
               (SELECT count(*) FROM balance_checkpoints WHERE account = 'demo'
                 AND run_id <> (SELECT max(id) FROM sync_runs WHERE account = 'demo')) AS earlier_checkpoints,
               (SELECT count(*) FROM proof_chain WHERE account = 'demo'
                 AND run_id <> (SELECT max(id) FROM sync_runs WHERE account = 'demo')) AS earlier_links,
               (SELECT count(*) FROM transaction_versions WHERE account = 'demo') AS versions,
               (SELECT string_agg(c.table_name::text, ' ' ORDER BY c.table_name) FROM information_schema.columns c
                 JOIN information_schema.tables t USING (table_schema, table_name)
                WHERE c.table_schema = 'public' AND c.column_name = 'account' AND t.table_type = 'BASE TABLE') AS account_tables`;
      const answer = await runCli(["sql", sql, "--json"], { GENERECT_SYNC_HOME: twice });
      expect({ code: answer.code, stderr: answer.code ? answer.stderr : "" }).toEqual({ code: 0, stderr: "" });
      const [held] = JSON.parse(answer.stdout) as Record<string, string>[];
      const { account_tables, ...counts } = held!;
      expect(counts).toEqual({
        runs: "1",
        bucket_rows: "900",
        daily_rows: "900",
        earlier_checkpoints: "0",
        earlier_links: "0",
        versions: "900",
      });
      // A table that gains an account column must be cleared too (children are cleared through their parents).
      const cleared = clearDemoSql.map((statement) => /^DELETE FROM (\w+)/.exec(statement)![1]);
      expect(account_tables!.split(" ").filter((table) => !cleared.includes(table))).toEqual([]);
    } finally {
      await rm(twice, { recursive: true, force: true });
    }
  }, 180_000);

  test("migrate on a fresh embedded home reports the migrations it applied, then that the schema is up to date", async () => {
    const fresh = await mkdtemp(path.join(os.tmpdir(), "gs-home-"));
    try {
      await chmod(fresh, 0o755);
      const names = (await readMigrations()).migrationDirectories.map((m) => m.path);
      const first = await runCli(["migrate"], { GENERECT_SYNC_HOME: fresh });
      expect({ code: first.code, stderr: first.code ? first.stderr : "" }).toEqual({ code: 0, stderr: "" });
      expect(first.stdout).toContain(`applied ${names.length} migration(s): ${names.join(", ")}`);
      const again = await runCli(["migrate"], { GENERECT_SYNC_HOME: fresh });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("database schema is up to date");
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }, 120_000);

  test("other commands still find a fresh embedded home migrated", async () => {
    const fresh = await mkdtemp(path.join(os.tmpdir(), "gs-home-"));
    try {
      await chmod(fresh, 0o755);
      const names = (await readMigrations()).migrationDirectories.map((m) => m.path);
      const answer = await runCli(["sql", "SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL", "--json"], {
        GENERECT_SYNC_HOME: fresh,
      });
      expect({ code: answer.code, stderr: answer.code ? answer.stderr : "" }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(answer.stdout)).toEqual([{ n: String(names.length) }]);
      expect(answer.stderr).toContain(`applied ${names.length} migration(s) to the embedded Postgres`);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }, 120_000);

  test("sql prints the rows as a table, exact, read-only; usage errors exit 2", async () => {
    const table = await runCli(
      ["sql", "SELECT 1.50::numeric AS amount, 'x' AS label, NULL AS nothing UNION ALL SELECT 123456.000001, 'longer label', 'y'"],
      { GENERECT_SYNC_HOME: home },
    );
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(
      "amount         label         nothing\n" + "1.50           x\n" + "123456.000001  longer label  y\n" + "(2 rows)\n",
    );
    const write = await runCli(["sql", "CREATE TABLE scratch (x int)"], { GENERECT_SYNC_HOME: home });
    expect(write.code).toBe(1);
    expect(write.stderr).toContain("read-only transaction");
    expect((await runCli(["sql"], { GENERECT_SYNC_HOME: home })).code).toBe(2);
  }, 60_000);

  test("db keeps the embedded Postgres up until Ctrl-C, says how to connect, and stops it", async () => {
    const db = spawnCli(["db"], { GENERECT_SYNC_HOME: home });
    try {
      await waitFor(
        () =>
          /embedded Postgres is up on 127\.0\.0\.1:\d+ until Ctrl-C[\s\S]*never printed/.test(db.output()) || db.child.exitCode !== null,
        60_000,
        "db to say it is up and how to connect",
      );
      expect({ exited: db.child.exitCode, output: db.child.exitCode === null ? "" : db.output() }).toEqual({ exited: null, output: "" });
      expect(db.output()).toContain(`psql "$(cat ${path.join(home, "database-url")})"`);
      const url = (await readFile(path.join(home, "database-url"), "utf8")).trim();
      expect(db.output()).not.toContain(decodeURIComponent(new URL(url).password));
      // As psql would, while the command runs: the demo's data is there.
      const rows = await query<{ n: string }>(url, "SELECT count(*)::text AS n FROM transactions WHERE account = 'demo'");
      expect(rows).toEqual([{ n: "1500" }]);
      // Other commands use the server it keeps up (rather than failing on its data directory), and
      // leave it up when they end; a second db has nothing to do.
      const status = await runCli(["status"], { GENERECT_SYNC_HOME: home, SYNC_ACCOUNT: "demo" });
      expect({ code: status.code, stderr: status.stderr }).toEqual({
        code: 0,
        stderr: expect.stringContaining(`kept up by generect-sync db (pid ${db.child.pid})`),
      });
      expect(status.stdout).toContain("transactions 1500");
      const counted = await runCli(["sql", "SELECT count(*) AS n FROM transactions WHERE account = 'demo'", "--json"], {
        GENERECT_SYNC_HOME: home,
      });
      expect(JSON.parse(counted.stdout)).toEqual([{ n: "1500" }]);
      const second = await runCli(["db"], { GENERECT_SYNC_HOME: home });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`generect-sync db (pid ${db.child.pid}) already keeps this embedded Postgres up`);
      expect(await query(url, "SELECT 1 AS up")).toEqual([{ up: 1 }]);
      db.child.kill("SIGINT");
      const result = await db.done;
      expect(result.code).toBe(0);
      await expect(query(url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
      // Stopped, it is no longer used by others: the next command starts its own server again.
      const after = await runCli(["sql", "SELECT 1 AS one"], { GENERECT_SYNC_HOME: home });
      expect(after.code).toBe(0);
      expect(after.stderr).not.toContain("kept up by");
    } finally {
      db.child.kill("SIGKILL");
    }
  }, 90_000);

  test("db with DATABASE_URL set has nothing to keep up: exit 2", async () => {
    const result = await runCli(["db"], { DATABASE_URL: "postgres://someone:hunter2pw@127.0.0.1:1/x" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("DATABASE_URL is set");
    expect(result.stderr).not.toContain("hunter2pw");
  });
});

describe("the installed bin", () => {
  // The README's way to run the worker under a process manager: the bin of an installed package,
  // started directly (npx runs it as a child and does not pass SIGTERM on).
  test("node_modules/.bin/generect-sync worker is the worker's own process: SIGTERM to that PID stops it with 143", async () => {
    const project = await mkdtemp(path.join(os.tmpdir(), "gs-project-"));
    const db = await createMigratedDatabase("cli-bin-worker");
    try {
      await mkdir(path.join(project, "node_modules/.bin"), { recursive: true });
      await symlink(repoRoot, path.join(project, "node_modules/generect-sync"));
      await symlink("../generect-sync/bin/generect-sync.js", path.join(project, "node_modules/.bin/generect-sync"));
      const child = spawn("node_modules/.bin/generect-sync", ["worker"], {
        cwd: project,
        env: {
          PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
          HOME: process.env.HOME,
          DATABASE_URL: db.url,
          GENERECT_API_TOKEN: testToken,
          GENERECT_API_URL: "http://127.0.0.1:9",
          SYNC_CRON: "0 0 1 1 *",
          SNAPSHOT_CRON: "0 0 1 1 *",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout!.on("data", (chunk) => (output += chunk));
      child.stderr!.on("data", (chunk) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      await waitFor(() => output.includes("worker started"), 60_000, "the worker to start");
      process.kill(child.pid!, "SIGTERM");
      expect(await exited).toBe(143);
      expect(output).toContain("worker stopped");
      expect(() => process.kill(child.pid!, 0)).toThrow(); // no process left behind under that PID
    } finally {
      await db.drop();
      await rm(project, { recursive: true, force: true });
    }
  }, 90_000);

  test("runs through its shebang (env -S with the heap flags), as npx and npm's bin links run it", async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        path.join(repoRoot, "bin/generect-sync.js"),
        ["--help"],
        {
          env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME },
        },
        (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: generect-sync/m);
  });

  // Through the shebang, as a user whose PATH finds an old node first: the check runs before the CLI
  // is loaded (its one module has no imports), and nothing else is printed.
  (oldNode() ? test : test.skip)("on a Node older than 22 it exits 2 naming the Node it needs, for every command", async () => {
    const node = oldNode()!;
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim().slice(1);
    for (const args of [["--help"], ["demo"], ["run"]]) {
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          path.join(repoRoot, "bin/generect-sync.js"),
          args,
          {
            env: { PATH: `${path.dirname(node)}:${process.env.PATH}`, HOME: process.env.HOME },
          },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
      expect(result).toEqual({ code: 2, stdout: "", stderr: `generect-sync needs Node.js 22 or newer (found ${version})\n` });
    }
  });

  test("the Node check's module imports nothing, and the bin loads the CLI only after it", async () => {
    const check = await readFile(path.join(repoRoot, "src/cli/node-version.ts"), "utf8");
    expect(check).not.toMatch(/^\s*(import|export .* from)\b/m);
    const bin = await readFile(path.join(repoRoot, "bin/generect-sync.js"), "utf8");
    expect(bin.match(/^import .*$/gm)).toEqual([`import { requireSupportedNode } from "../dist/cli/node-version.js";`]);
    expect(nodeVersionProblem("20.19.5")).toBe("generect-sync needs Node.js 22 or newer (found 20.19.5)");
    expect(nodeVersionProblem("v21.7.3")).toBe("generect-sync needs Node.js 22 or newer (found 21.7.3)");
    expect(nodeVersionProblem("22.0.0")).toBeUndefined();
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
    const engines = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")).engines.node as string;
    expect(engines).toBe(`>=${minimumNodeMajor}`);
  });
});
