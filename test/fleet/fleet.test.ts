// Issue #17: many accounts into one database through `run --all` (the real CLI in a child), each
// against its own ledger on one simulator (one ledger per key): each equals its truth field by
// field (two of them share ids), a rejected key and an unset key fail alone, a held lock is skipped,
// accounts given one key fail alone, a SIGKILL mid-fleet and a rerun converge, and shards 0/2 and
// 1/2 cover every account once.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { RequestSlotUsage } from "../../src/api/request-slots.js";
import { accountHash, inShard, loadAccounts } from "../../src/config/accounts.js";
import { acquireAccountLock } from "../../src/job/lock.js";
import { Ledger, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { cli, expectVersionsConsistent, guardCliOutput, registerSecret, runCliChecked, waitFor } from "../faults/support.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, perTest, startTestSimulator, syncRuns } from "../helpers/sync.js";
import { dayMs } from "../helpers/time.js";

guardCliOutput();

const keys = { acme: "tok_live_acme_7c1d93", globex: "tok_live_globex_52ab0e", initech: "tok_live_initech_e81f44" } as const;
const rejected = "tok_live_revoked_0a9b8c";
for (const key of [...Object.values(keys), rejected]) registerSecret(key);

const dir = mkdtempSync(path.join(tmpdir(), "fleet-"));
function accountsFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
const good = ["acme", "globex", "initech"] as const;
const goodFile = accountsFile(
  "good.yaml",
  `accounts:\n${good.map((n) => `  - name: ${n}\n    token_env: ${n.toUpperCase()}_GENERECT_TOKEN\n`).join("")}`,
);
const mixedFile = accountsFile(
  "mixed.yaml",
  `accounts:
  - name: acme
    token_env: ACME_GENERECT_TOKEN
  - name: umbrella              # its key was revoked: the API answers 403
    token_env: UMBRELLA_GENERECT_TOKEN
  - name: globex
    token_env: GLOBEX_GENERECT_TOKEN
    timezone: Europe/Berlin
  - name: hooli                 # its variable is not set
    token_env: HOOLI_GENERECT_TOKEN
  - name: initech
    token_env: INITECH_GENERECT_TOKEN
`,
);

/** Each account's own ledger: acme and globex share every id (globex's values differ, some rows gone). */
function ledgers(rows: number): Record<keyof typeof keys, Ledger> {
  const to = new Date(Date.now() - 60_000);
  const seeded = (seed: number, n = rows) =>
    new Ledger(seedTransactions({ seed, rows: n, from: new Date(to.getTime() - 40 * dayMs), to }), { seed });
  const globex = seeded(71);
  for (const [i, row] of globex.all().entries()) {
    if (i % 3 === 0) globex.update(row.id, { description: `globex's own ${i}`, status: row.status === "success" ? "error" : "success" });
    if (i % 10 === 1) globex.remove(row.id);
  }
  return { acme: seeded(71), globex, initech: seeded(72, Math.round(rows * 0.6)) };
}

async function simulatorFor(books: Record<keyof typeof keys, Ledger>, latencyMs = 0): Promise<SimulatorHandle> {
  return startTestSimulator({
    token: keys.acme,
    ledger: books.acme,
    accounts: { [keys.globex]: books.globex, [keys.initech]: books.initech },
    faults: latencyMs ? { latencyMs } : {},
  });
}

function fleetEnv(db: TestDatabase, sim: SimulatorHandle, file: string, extra: Record<string, string> = {}) {
  return {
    DATABASE_URL: db.url,
    GENERECT_API_URL: sim.url,
    SYNC_ACCOUNTS_FILE: file,
    SYNC_WINDOW: "5d",
    SYNC_WINDOW_ROWS: "0",
    SYNC_CONCURRENCY: "4",
    SYNC_DB_CONNECTIONS: "9",
    LOG_LEVEL: "warn",
    ACME_GENERECT_TOKEN: keys.acme,
    GLOBEX_GENERECT_TOKEN: keys.globex,
    INITECH_GENERECT_TOKEN: keys.initech,
    UMBRELLA_GENERECT_TOKEN: rejected,
    ...extra,
  };
}

/** "acme succeeded" from a summary line of `run --all` ("fleet 3" from its last). */
const verdict = (line: string) => /^([\w-]+): (\w+)/.exec(line)?.slice(1).join(" ");

async function expectEveryAccountEqualsItsLedger(
  db: TestDatabase,
  sim: SimulatorHandle,
  names: readonly (keyof typeof keys)[] = good,
): Promise<void> {
  for (const name of names) await expectDatabaseEqualsLedger(db.url, { ...sim, ledger: sim.ledgers.get(keys[name])! }, name);
  await expectVersionsConsistent(db.url);
}

describe("run --all: three accounts, one rejected key, one unset key", () => {
  let sim: SimulatorHandle;
  let db: TestDatabase;
  beforeAll(async () => {
    sim = await simulatorFor(ledgers(400));
    db = await createMigratedDatabase("fleet");
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("each good account equals its own ledger field by field; the bad two fail alone, exit 1, one line per account", async () => {
    const result = await runCliChecked(["run", "--all"], fleetEnv(db, sim, mixedFile));
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/already executing a query/);
    const lines = result.stdout.trim().split("\n");
    expect(lines.map(verdict)).toEqual([
      "acme succeeded",
      "umbrella failed",
      "globex succeeded",
      "hooli failed",
      "initech succeeded",
      "fleet 3",
    ]);
    expect(lines[1]).toContain("[API_FORBIDDEN]");
    expect(lines[3]).toMatch(/^hooli: failed \(run #\d+\) \[TOKEN_MISSING\]: HOOLI_GENERECT_TOKEN is not set/);
    await expectEveryAccountEqualsItsLedger(db, sim);
    // Shared ids: globex holds the same ids as acme, each with its own values.
    const [shared] = await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM transactions a JOIN transactions g ON a.id = g.id AND a.account = 'acme' AND g.account = 'globex'",
    );
    expect(shared!.n).toBe(sim.ledgers.get(keys.globex)!.size);
    // sync_runs: one run per account; the revoked key's is recorded failed, and so is the unset
    // variable's (its code and message name the variable, never a token; no request was made).
    const byAccount = await query<{
      account: string;
      status: string;
      error_code: string | null;
      error_message: string | null;
      api_requests: number;
      finished_at: Date | null;
    }>(db.url, "SELECT account, status, error_code, error_message, api_requests, finished_at FROM sync_runs ORDER BY account");
    expect(byAccount.map((r) => `${r.account}:${r.status}`)).toEqual([
      "acme:succeeded",
      "globex:succeeded",
      "hooli:failed",
      "initech:succeeded",
      "umbrella:failed",
    ]);
    expect(byAccount.find((r) => r.account === "umbrella")!.error_code).toBe("API_FORBIDDEN");
    const hooli = byAccount.find((r) => r.account === "hooli")!;
    expect(hooli).toMatchObject({ error_code: "TOKEN_MISSING", api_requests: 0 });
    expect(hooli.error_message).toContain("HOOLI_GENERECT_TOKEN is not set");
    expect(hooli.finished_at).not.toBeNull();
    const lines_ = lines.find((l) => l.startsWith("hooli"))!;
    expect(lines_).toContain(
      `run #${(await query<{ id: string }>(db.url, "SELECT id::text FROM sync_runs WHERE account = 'hooli'"))[0]!.id}`,
    );
    // The per-account timezone override keys globex's snapshots.
    const zones = await query<{ account: string; timezone: string }>(
      db.url,
      "SELECT DISTINCT account, timezone FROM spent_credit_snapshots ORDER BY account",
    );
    expect(zones).toEqual([
      { account: "acme", timezone: "UTC" },
      { account: "globex", timezone: "Europe/Berlin" },
      { account: "initech", timezone: "UTC" },
    ]);
  });

  test("an account whose lock another process holds is skipped and reported, not a failure (exit 0); changes reach the others", async () => {
    const globex = sim.ledgers.get(keys.globex)!;
    globex.update(globex.all()[2]!.id, { description: "changed since" });
    const lock = await acquireAccountLock(db.url, "acme");
    try {
      const result = await runCliChecked(["run", "--all"], fleetEnv(db, sim, goodFile));
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^acme: skipped .*another generect-sync run holds the lock/m);
      expect(result.stdout).toMatch(/^globex: succeeded .*1 updated/m);
      expect(result.stdout).toMatch(/^fleet: 2 succeeded, 0 failed, 1 skipped/m);
    } finally {
      await lock.release();
    }
    await expectEveryAccountEqualsItsLedger(db, sim);
  });

  test("status --all: one row per account (lag, last run, rows, reconciliation), as a table and as JSON, with no token set", async () => {
    const env = { DATABASE_URL: db.url, SYNC_ACCOUNTS_FILE: mixedFile };
    const json = await runCliChecked(["status", "--all", "--json"], env);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as {
      account: string;
      transactions: number;
      lastRun: { status: string } | null;
      lagSeconds: number | null;
      tokenProblem: string | null;
    }[];
    const live = (name: keyof typeof keys) => sim.ledgers.get(keys[name])!.size;
    expect(rows.map((r) => [r.account, r.transactions, r.lastRun?.status ?? null])).toEqual([
      ["acme", live("acme"), "succeeded"],
      ["umbrella", 0, "failed"],
      ["globex", live("globex"), "succeeded"],
      ["hooli", 0, "failed"],
      ["initech", live("initech"), "succeeded"],
    ]);
    expect(rows.find((r) => r.account === "hooli")!.tokenProblem).toContain("HOOLI_GENERECT_TOKEN is not set");
    expect(rows.find((r) => r.account === "initech")!.lagSeconds).toBeLessThan(3600);
    const table = await runCliChecked(["status", "--all"], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ACCOUNT\s+LAG\s+LAST RUN\s+ROWS\s+RECONCILIATION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["acme", "umbrella", "globex", "hooli", "initech"]);
    expect(lines.find((l) => l.startsWith("globex"))).toMatch(new RegExp(`succeeded .* ${live("globex")}  `));
  });

  test("a bad file exits 2 naming the file, the entry and the field, a bad setting naming the variable; nothing runs", async () => {
    const before = (await syncRuns(db.url)).length;
    const bad = accountsFile(
      "bad.yaml",
      "accounts:\n  - name: acme\n    token_env: ACME_GENERECT_TOKEN\n  - name: globex\n    token_env: GLOBEX_GENERECT_TOKEN\n    timezone: Mars/Olympus\n",
    );
    const result = await runCliChecked(["run", "--all"], fleetEnv(db, sim, bad));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toContain('accounts[1] ("globex"), field timezone');
    const dup = accountsFile("dup.yaml", "accounts:\n  - name: acme\n    token_env: A\n  - name: acme\n    token_env: B\n");
    const second = await runCliChecked(["run", "--all"], fleetEnv(db, sim, dup));
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('accounts[1] ("acme"), field name: also the name of accounts[0]');
    const heap = await runCliChecked(["run", "--all"], fleetEnv(db, sim, goodFile, { SYNC_HEAP_GROWTH: "150%" }));
    expect(heap.code).toBe(2);
    expect(heap.stderr).toContain('SYNC_HEAP_GROWTH="150%" must be a whole number from 0 to 1000');
    expect((await syncRuns(db.url)).length).toBe(before);
  });

  test("run --full --all walks every account's whole history: a change older than the lookback reaches each account", async () => {
    const acme = sim.ledgers.get(keys.acme)!,
      initech = sim.ledgers.get(keys.initech)!;
    const old = (ledger: Ledger) => ledger.all().find((r) => Date.parse(`${r.created_at}Z`) < Date.now() - 20 * dayMs)!;
    acme.update(old(acme).id, { description: "restated a month later" });
    initech.update(old(initech).id, { description: "renamed a month later" });
    const incremental = await runCliChecked(["run", "--all"], fleetEnv(db, sim, goodFile));
    expect(incremental.code).toBe(0);
    const [stale] = await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM transactions WHERE account = 'acme' AND description = 'restated a month later'",
    );
    expect(stale!.n).toBe(0); // older than SYNC_LOOKBACK: an incremental pass cannot see it
    const full = await runCliChecked(["run", "--full", "--all"], fleetEnv(db, sim, goodFile, { LOG_LEVEL: "debug" }));
    expect(full.code).toBe(0);
    // The fleet's process grows its heap further between full collections (src/cli/fleet-heap.ts).
    expect(`${full.stdout}${full.stderr}`).toMatch(/"heapGrowingPercent":150,.*"msg":"fleet heap growth set"/);
    expect(full.stdout).toMatch(/^acme: succeeded .*1 updated/m);
    expect(full.stdout).toMatch(/^initech: succeeded .*1 updated/m);
    expect(full.stdout).toMatch(/^globex: succeeded .*0 updated/m);
    await expectEveryAccountEqualsItsLedger(db, sim);
  }, 120_000);

  test("verify --all: one line per account, all hold (exit 0); one account tampered fails alone (exit 1); a held lock is skipped; --json", async () => {
    // globex's ledger had statuses flipped in place (its after_balance no longer chains): verify
    // names that at the API's own data, so the clean pair is acme and initech.
    const pair = accountsFile(
      "verify.yaml",
      "accounts:\n  - name: acme\n    token_env: ACME_GENERECT_TOKEN\n  - name: initech\n    token_env: INITECH_GENERECT_TOKEN\n",
    );
    const env = fleetEnv(db, sim, pair);
    const clean = await runCliChecked(["verify", "--all"], env);
    expect(clean.code).toBe(0);
    // The accounts share one lock connection: its statements run one at a time, so node-postgres
    // has nothing to warn about.
    expect(clean.stderr).not.toMatch(/already executing a query/);
    expect(
      clean.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(":").slice(0, 2).join(":")),
    ).toEqual([
      "acme: succeeded",
      "initech: succeeded",
      "fleet: 2 succeeded, 0 failed, 0 skipped (lock held elsewhere), 0 interrupted, of 2",
    ]);
    expect(clean.stdout).toMatch(/^acme: succeeded: all 5 proofs hold .*head [0-9a-f]{64}$/m);
    const swept = await query<{ account: string }>(db.url, "SELECT DISTINCT account FROM audit_sweeps ORDER BY account");
    expect(swept.map((r) => r.account)).toEqual(["acme", "initech"]);

    // Tamper with one stored row of initech: its chain no longer reproduces; acme still holds.
    const [target] = await query<{ version_id: string; id: string }>(
      db.url,
      "SELECT version_id::text, id::text FROM transactions WHERE account = 'initech' ORDER BY version_id OFFSET 5 LIMIT 1",
    );
    await query(db.url, "UPDATE transactions SET description = 'edited by hand' WHERE account = 'initech' AND version_id = $1", [
      target!.version_id,
    ]);
    const tampered = await runCliChecked(["verify", "--all"], env);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^acme: succeeded: all 5 proofs hold/m);
    expect(tampered.stdout).toMatch(
      new RegExp(
        `^initech: failed \\[VERIFY_DIFFERS\\]: 1 of 5 proofs differ: tamper_evidence .*version ${target!.version_id} of transaction ${target!.id} no longer produces the leaf`,
        "m",
      ),
    );
    expect(tampered.stdout).toMatch(/^fleet: 1 succeeded, 1 failed, 0 skipped/m);

    const json = await runCliChecked(["verify", "--all", "--json"], fleetEnv(db, sim, mixedFile));
    expect(json.code).toBe(1);
    const reports = JSON.parse(json.stdout) as {
      account: string;
      status: string;
      code: string | null;
      report: { holds: boolean; proofs: { name: string; holds: boolean }[] } | null;
    }[];
    expect(reports.map((r) => [r.account, r.status, r.code])).toEqual([
      // umbrella never synced a window (its key is rejected): nothing to sweep, nothing to judge.
      ["acme", "succeeded", null],
      ["umbrella", "succeeded", null],
      ["globex", "failed", "VERIFY_DIFFERS"],
      ["hooli", "failed", "TOKEN_MISSING"],
      ["initech", "failed", "VERIFY_DIFFERS"],
    ]);
    const failing = (i: number) => reports[i]!.report!.proofs.filter((p) => !p.holds).map((p) => p.name);
    expect([failing(2), failing(4)]).toEqual([["balance_chain"], ["tamper_evidence"]]);
    // verify records no run: the unset variable's account fails in the summary only.
    expect((await syncRuns(db.url)).filter((r) => r.command === "verify")).toEqual([]);

    // Restored, with another process holding acme's lock: acme skipped, initech holds, exit 0.
    await query(db.url, "UPDATE transactions SET description = $2 WHERE account = 'initech' AND version_id = $1", [
      target!.version_id,
      sim.ledgers.get(keys.initech)!.get(target!.id)!.description,
    ]);
    const lock = await acquireAccountLock(db.url, "acme");
    let locked;
    try {
      locked = await runCliChecked(["verify", "--all"], env);
    } finally {
      await lock.release();
    }
    expect(locked.code).toBe(0);
    expect(locked.stdout).toMatch(/^acme: skipped \[LOCKED\]: another generect-sync run holds the lock/m);
    expect(locked.stdout).toMatch(/^initech: succeeded: all 5 proofs hold/m);

    const digest = await runCliChecked(["verify", "--all", "--digest", "0".repeat(64)], env);
    expect(digest.code).toBe(2);
    expect(digest.stderr).toContain("--digest is one account's head digest");
  }, 180_000);
});

describe("run --all: accounts given one key", () => {
  const made = perTest();
  test("each account that shares its key fails alone (TOKEN_SHARED), nothing of it requested or written; the others run", async () => {
    const sim = made.simulator(await simulatorFor(ledgers(200)));
    const db = made.database(await createMigratedDatabase("fleet-shared-key"));
    const file = accountsFile(
      "shared.yaml",
      `accounts:
- name: acme
  token_env: ACME_GENERECT_TOKEN
- name: acme-eu                  # the same variable pasted twice
  token_env: ACME_GENERECT_TOKEN
- name: globex
  token_env: GLOBEX_GENERECT_TOKEN
- name: globex-eu                # another variable, holding globex's key
  token_env: GLOBEX_EU_GENERECT_TOKEN
- name: initech
  token_env: INITECH_GENERECT_TOKEN
`,
    );
    const result = await runCliChecked(["run", "--all"], fleetEnv(db, sim, file, { GLOBEX_EU_GENERECT_TOKEN: keys.globex }));
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines.map(verdict)).toEqual([
      "acme failed",
      "acme-eu failed",
      "globex failed",
      "globex-eu failed",
      "initech succeeded",
      "fleet 1",
    ]);
    expect(lines[1]).toMatch(
      /^acme-eu: failed \(run #\d+\) \[TOKEN_SHARED\]: ACME_GENERECT_TOKEN holds the same API key as account "acme" \(the same variable\)/,
    );
    expect(lines[2]).toContain(
      '[TOKEN_SHARED]: GLOBEX_GENERECT_TOKEN holds the same API key as GLOBEX_EU_GENERECT_TOKEN (account "globex-eu")',
    );
    const runs = await query<{ account: string; status: string; error_code: string | null; api_requests: number }>(
      db.url,
      "SELECT account, status, error_code, api_requests FROM sync_runs ORDER BY account",
    );
    expect(runs).toEqual([
      { account: "acme", status: "failed", error_code: "TOKEN_SHARED", api_requests: 0 },
      { account: "acme-eu", status: "failed", error_code: "TOKEN_SHARED", api_requests: 0 },
      { account: "globex", status: "failed", error_code: "TOKEN_SHARED", api_requests: 0 },
      { account: "globex-eu", status: "failed", error_code: "TOKEN_SHARED", api_requests: 0 },
      { account: "initech", status: "succeeded", error_code: null, api_requests: expect.any(Number) },
    ]);
    // Every request the simulator answered was initech's, and only initech's rows are held.
    expect(sim.stats.requests).toBe(runs.at(-1)!.api_requests);
    const held = await query<{ account: string }>(db.url, "SELECT DISTINCT account FROM transactions");
    expect(held).toEqual([{ account: "initech" }]);
    await expectEveryAccountEqualsItsLedger(db, sim, ["initech"]);
  });
});

describe("simulate --accounts N", () => {
  test("serves N ledgers, one per key, and writes an accounts file that run --all syncs", async () => {
    const file = path.join(dir, "simulated.yaml");
    const sim = cli(["simulate", "--port", "0", "--rows", "150", "--years", "0.1", "--accounts", "3", "--accounts-file", file], {});
    const db = await createMigratedDatabase("fleet-simulate");
    try {
      await waitFor(() => /SYNC_ACCOUNTS_FILE=/.test(sim.output()), 20_000, "the simulator to listen");
      const out = sim.output();
      const url = /GENERECT_API_URL=(\S+)/.exec(out)![1]!;
      const tokens = Object.fromEntries([...out.matchAll(/(ACCOUNT_\d+_TOKEN)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
      expect(Object.keys(tokens)).toEqual(["ACCOUNT_1_TOKEN", "ACCOUNT_2_TOKEN", "ACCOUNT_3_TOKEN"]);
      expect(new Set(Object.values(tokens)).size).toBe(3);
      const run = await runCliChecked(["run", "--all"], {
        DATABASE_URL: db.url,
        GENERECT_API_URL: url,
        SYNC_ACCOUNTS_FILE: file,
        LOG_LEVEL: "warn",
        ...tokens,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^account-1: succeeded .*: 150 rows seen \(150 inserted/m);
      expect(run.stdout).toMatch(/^account-3: succeeded .*: 150 rows seen \(150 inserted/m);
      // Three ledgers of their own (seeds 42, 43, 44), not one served three times.
      const [distinct] = await query<{ n: number }>(db.url, "SELECT count(DISTINCT (id, amount, created_at))::int AS n FROM transactions");
      expect(distinct!.n).toBeGreaterThan(2 * 150);
      const forbidden = await runCliChecked(["run", "--all"], {
        DATABASE_URL: db.url,
        GENERECT_API_URL: url,
        SYNC_ACCOUNTS_FILE: file,
        LOG_LEVEL: "warn",
        ...tokens,
        ACCOUNT_2_TOKEN: "not-a-key",
      });
      expect(forbidden.code).toBe(1);
      expect(forbidden.stdout).toMatch(/^account-2: failed .*\[API_FORBIDDEN\]/m);
    } finally {
      sim.child.kill("SIGTERM");
      await sim.done;
      await db.drop();
    }
  });
});

describe("worker with SYNC_ACCOUNTS_FILE", () => {
  test("runs the fleet on its schedules: every account synced and snapshotted, then SIGTERM stops it (143)", async () => {
    const sim = await simulatorFor(ledgers(300));
    const db = await createMigratedDatabase("fleet-worker");
    try {
      const worker = cli(
        ["worker"],
        fleetEnv(db, sim, goodFile, { SYNC_CRON: "*/2 * * * * *", SNAPSHOT_CRON: "*/3 * * * * *", VERIFY_CRON: "*/5 * * * * *" }),
      );
      await waitFor(
        async () => {
          const rows = await query<{ account: string; command: string }>(
            db.url,
            "SELECT DISTINCT account, command FROM sync_runs WHERE status = 'succeeded'",
          );
          return rows.length === 2 * good.length;
        },
        40_000,
        "a succeeded run and snapshot pass of every account",
      );
      // VERIFY_CRON: the audit sweep of every account of the fleet, recorded in audit_sweeps, all agreeing.
      await waitFor(
        async () => {
          const rows = await query<{ account: string }>(db.url, "SELECT DISTINCT account FROM audit_sweeps WHERE windows > 0");
          return rows.length === good.length;
        },
        40_000,
        "an audit sweep of every account",
      );
      const sweeps = await query<{ account: string; differing: unknown[] }>(
        db.url,
        "SELECT account, differing FROM audit_sweeps WHERE windows > 0",
      );
      expect(sweeps.every((s) => s.differing.length === 0)).toBe(true);
      worker.child.kill("SIGTERM");
      const result = await worker.done;
      expect(result.code).toBe(143);
      expect((await syncRuns(db.url)).every((r) => r.status !== "running")).toBe(true);
      await expectEveryAccountEqualsItsLedger(db, sim);
    } finally {
      await sim.close();
      await db.drop();
    }
  });
});

describe("run --all killed mid-fleet", () => {
  let sim: SimulatorHandle;
  let db: TestDatabase;
  beforeAll(async () => {
    sim = await simulatorFor(ledgers(1500), 15);
    db = await createMigratedDatabase("fleet-kill");
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("SIGKILL once windows are committed, then a rerun: every account converges to its ledger", async () => {
    const env = fleetEnv(db, sim, goodFile, { SYNC_WINDOW: "1d", SYNC_DB_CONNECTIONS: "6" });
    const run = cli(["run", "--all"], env);
    let exited = false;
    void run.done.then(() => (exited = true));
    await waitFor(
      async () => exited || (await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM sync_state"))[0]!.n >= 1,
      60_000,
      "a committed window",
    );
    expect(exited).toBe(false);
    run.child.kill("SIGKILL");
    await run.done;
    const [partial] = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM transactions");
    expect(partial!.n).toBeLessThan([...sim.ledgers.values()].reduce((sum, l) => sum + l.size, 0));
    const rerun = await runCliChecked(["run", "--all"], env);
    expect(rerun.code).toBe(0);
    await expectEveryAccountEqualsItsLedger(db, sim);
    const killed = (await syncRuns(db.url)).filter((r) => r.status === "interrupted");
    expect(killed.length).toBeGreaterThanOrEqual(1);
  });

  test("the one connection holding every account's lock is terminated mid-fleet: each account takes its lock again, all succeed and converge", async () => {
    const fresh = await createMigratedDatabase("fleet-lock-loss");
    try {
      const run = cli(["run", "--all"], fleetEnv(fresh, sim, goodFile, { SYNC_WINDOW: "1d", LOG_LEVEL: "info" }));
      let exited = false;
      void run.done.then(() => (exited = true));
      await waitFor(
        async () => exited || (await query<{ n: number }>(fresh.url, "SELECT count(*)::int AS n FROM sync_state"))[0]!.n >= 1,
        60_000,
        "a committed window",
      );
      const terminated = await query<{ pid: number }>(
        fresh.url,
        "SELECT pg_terminate_backend(pid) AS done, pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'generect-sync lock'",
      );
      expect({ exited, terminated: terminated.length }).toEqual({ exited: false, terminated: 1 });
      const result = await run.done;
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^fleet: 3 succeeded, 0 failed/m);
      await expectEveryAccountEqualsItsLedger(fresh, sim);
      expect((await syncRuns(fresh.url)).map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    } finally {
      await fresh.drop();
    }
  });
});

describe("isolation and fairness", () => {
  test("an API outage for one account (503 on its key only) fails that account alone; the others complete", async () => {
    const sim = await simulatorFor(ledgers(200));
    sim.faults.intercept = ({ headers }) =>
      headers.authorization === `Token ${keys.globex}` ? { status: 503, body: '{"detail":"Service temporarily unavailable."}' } : undefined;
    const db = await createMigratedDatabase("fleet-outage");
    try {
      const result = await runCliChecked(["run", "--all"], fleetEnv(db, sim, goodFile, { GENERECT_RETRIES: "1" }));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^globex: failed \(run #\d+\) \[API_UNAVAILABLE\]/m);
      expect(result.stdout).toMatch(/^fleet: 2 succeeded, 1 failed/m);
      await expectEveryAccountEqualsItsLedger(db, sim, ["acme", "initech"]);
      const [globex] = await query<{ status: string; error_code: string; n: number }>(
        db.url,
        "SELECT status, error_code, (SELECT count(*)::int FROM transactions WHERE account = 'globex') AS n FROM sync_runs WHERE account = 'globex'",
      );
      expect(globex).toEqual({ status: "failed", error_code: "API_UNAVAILABLE", n: 0 });
    } finally {
      await sim.close();
      await db.drop();
    }
  });

  test("a large backfill does not starve small accounts: with SYNC_CONCURRENCY=1 every small account finishes before the large one", async () => {
    const to = new Date(Date.now() - 60_000);
    const big = new Ledger(seedTransactions({ seed: 81, rows: 3000, from: new Date(to.getTime() - 60 * dayMs), to }), { seed: 81 });
    const small = Array.from(
      { length: 6 },
      (_, i) => new Ledger(seedTransactions({ seed: 90 + i, rows: 30, from: new Date(to.getTime() - 5 * dayMs), to }), { seed: 90 + i }),
    );
    const sim = await startTestSimulator({
      token: "tok_live_big_0001",
      ledger: big,
      faults: { latencyMs: 5 },
      accounts: Object.fromEntries(small.map((ledger, i) => [`tok_live_small_${i}`, ledger])),
    });
    for (const key of ["tok_live_big_0001", ...small.map((_, i) => `tok_live_small_${i}`)]) registerSecret(key);
    const file = accountsFile(
      "fair.yaml",
      `accounts:\n  - name: big\n    token_env: BIG_TOKEN\n${small.map((_, i) => `  - name: small-${i}\n    token_env: SMALL_${i}_TOKEN\n`).join("")}`,
    );
    const db = await createMigratedDatabase("fleet-fair");
    try {
      const result = await runCliChecked(["run", "--all"], {
        DATABASE_URL: db.url,
        GENERECT_API_URL: sim.url,
        SYNC_ACCOUNTS_FILE: file,
        SYNC_CONCURRENCY: "1",
        SYNC_DB_CONNECTIONS: "3",
        SYNC_WINDOW: "1d",
        SYNC_WINDOW_ROWS: "0",
        LOG_LEVEL: "info",
        BIG_TOKEN: "tok_live_big_0001",
        ...Object.fromEntries(small.map((_, i) => [`SMALL_${i}_TOKEN`, `tok_live_small_${i}`])),
      });
      expect(result.code).toBe(0);
      const finished = await query<{ account: string; finished_at: Date }>(
        db.url,
        "SELECT account, finished_at FROM sync_runs ORDER BY finished_at",
      );
      expect(finished.map((r) => r.account).at(-1)).toBe("big");
      expect(finished).toHaveLength(7);
      // The fleet's last word: how its one request slot was used. Every request of every run took it
      // (the runs' own counts of their requests, from sync_runs), on average for at least the API's 5 ms.
      const usage = result.stderr
        .split("\n")
        .filter((line) => line.includes('"requestSlots"'))
        .map((line) => (JSON.parse(line) as { msg: string; requestSlots: RequestSlotUsage }).requestSlots);
      const [requests] = await query<{ n: number }>(db.url, "SELECT sum(api_requests)::int AS n FROM sync_runs");
      expect(usage).toHaveLength(1);
      expect(usage[0]).toMatchObject({ slots: 1, requests: requests!.n });
      expect(usage[0]!.meanHoldMs).toBeGreaterThanOrEqual(5);
      expect(usage[0]!.busyShare + usage[0]!.idleShare).toBeCloseTo(1, 6);
      expect(usage[0]!.busyShare).toBeGreaterThan(0.5);
      await expectDatabaseEqualsLedger(db.url, { ...sim, ledger: big }, "big");
      for (const [i, ledger] of small.entries()) await expectDatabaseEqualsLedger(db.url, { ...sim, ledger }, `small-${i}`);
    } finally {
      await sim.close();
      await db.drop();
    }
  });
});

describe("shards", () => {
  test("0/2 and 1/2 together take every account exactly once, by a stable hash of the name", () => {
    const names = Array.from({ length: 200 }, (_, i) => `client-${i}`);
    const zero = names.filter((n) => inShard(n, { index: 0, count: 2 }));
    const one = names.filter((n) => inShard(n, { index: 1, count: 2 }));
    expect([...zero, ...one].sort()).toEqual([...names].sort());
    expect(zero.filter((n) => one.includes(n))).toEqual([]);
    expect(zero.length).toBeGreaterThan(70);
    expect(one.length).toBeGreaterThan(70);
    // FNV-1a's published offset basis and its vector for "a": the hash must never change between releases.
    expect(accountHash("")).toBe(0x811c9dc5);
    expect(accountHash("a")).toBe(0xe40c292c);
  });

  test("run --all --shard 0/2 then 1/2 (and JOB_COMPLETION_INDEX with SYNC_SHARDS) sync every account once", async () => {
    const sim = await simulatorFor(ledgers(200));
    const db = await createMigratedDatabase("fleet-shards");
    try {
      const names = loadAccounts(goodFile, {}).map((a) => a.name);
      const first = await runCliChecked(["run", "--all", "--shard", "0/2"], fleetEnv(db, sim, goodFile));
      const second = await runCliChecked(
        ["run", "--all"],
        fleetEnv(db, sim, goodFile, { SYNC_SHARDS: "2", JOB_COMPLETION_INDEX: "1", SYNC_HEAP_GROWTH: "0", LOG_LEVEL: "debug" }),
      );
      expect([first.code, second.code]).toEqual([0, 0]);
      expect(`${second.stdout}${second.stderr}`).toMatch(/"heapGrowingPercent":0,.*"msg":"fleet heap growth set"/);
      const ran = await query<{ account: string; n: number }>(
        db.url,
        "SELECT account, count(*)::int AS n FROM sync_runs GROUP BY account ORDER BY account",
      );
      expect(ran).toEqual([...names].sort().map((account) => ({ account, n: 1 })));
      expect(
        first.stdout
          .split("\n")
          .filter((l) => /: succeeded/.test(l))
          .map((l) => l.split(":")[0]),
      ).toEqual(names.filter((n) => accountHash(n) % 2 === 0));
      await expectEveryAccountEqualsItsLedger(db, sim);
    } finally {
      await sim.close();
      await db.drop();
    }
  });
});
