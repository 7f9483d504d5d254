// generect-sync verify as an auditor runs it (a child process: exit code, output, --json), against
// the simulator's truth. Each lie or tampering below is made in the simulator or the database, and
// verify must name it exactly; --repair must make the database equal the truth again.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { addDecimals, JsonNumber, type SimTransaction, type SimulatorHandle, USERS_ME_PATH } from "../../src/simulator/index.js";
import { guardCliOutput, runCliChecked, waitFor } from "../faults/support.js";
import { spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, perTest, seededSimulator, syncOnce, testToken } from "../helpers/sync.js";
import { dayMs } from "../helpers/time.js";

const naive = (ms: number) => `${new Date(ms).toISOString().slice(0, 23).replace("Z", "")}000`;

interface ProofLine {
  name: string;
  holds: boolean;
  summary: string;
  findings: string[];
}
interface Report {
  holds: boolean;
  proofs: ProofLine[];
  headDigest: string;
  sweep: { windows: number; apiRequests: number };
}

describe("verify", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;
  guardCliOutput();

  const verify = async (...args: string[]) => {
    const result = await runCliChecked(["verify", ...args], env);
    return { ...result, report: args.includes("--json") ? (JSON.parse(result.stdout) as Report) : undefined };
  };
  const proof = (report: Report | undefined, name: string) => report!.proofs.find((p) => p.name === name)!;
  const failing = (report: Report | undefined) => report!.proofs.filter((p) => !p.holds).map((p) => p.name);
  /** The sweep window (as verify prints it) that holds an instant. */
  const windowOf = (findings: string[], createdAtMs: number) =>
    findings.find((f) => {
      const [from, to] = /^\[(.+?), (.+?)\)/
        .exec(f)!
        .slice(1)
        .map((t) => Date.parse(t.replace(" ", "T")));
      return from! <= createdAtMs && createdAtMs < to!;
    });

  beforeAll(async () => {
    db = await createMigratedDatabase("proofs");
    sim = await seededSimulator(1616, 1500, 150);
    env = { GENERECT_API_TOKEN: testToken, GENERECT_API_URL: sim.url, DATABASE_URL: db.url, SYNC_ACCOUNT: "acct", LOG_LEVEL: "warn" };
    await syncOnce(db.url, sim);
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("on a clean simulated ledger every proof holds, and status sums them up in one line", async () => {
    const { code, stdout, report } = await verify("--json");
    expect({ code, failing: failing(report) }).toEqual({ code: 0, failing: [] });
    expect(proof(report, "balance_chain").summary).toMatch(/^rule all /);
    expect(proof(report, "balance_checkpoints").summary).toMatch(/^1 checkpoint\(s\) judged of 1 captured \(0 missing\)/);
    // One limit=1 request per 7-day window of the 150-day history, plus the two that find its oldest row.
    const [span] = await query<{ micros: string }>(
      db.url,
      `SELECT ((extract(epoch FROM (SELECT watermark FROM sync_state)) - extract(epoch FROM min(created_at))) * 1000000)::bigint::text AS micros FROM transactions`,
    );
    expect(report!.sweep.windows).toBe(Math.ceil(Number(span!.micros) / (7 * dayMs * 1000)));
    expect(report!.sweep.apiRequests).toBe(report!.sweep.windows + 2);
    const [run] = await query<{ head_digest: string }>(db.url, `SELECT head_digest FROM sync_runs ORDER BY id DESC LIMIT 1`);
    expect(report!.headDigest).toBe(run!.head_digest);
    expect(stdout.startsWith("{")).toBe(true);
    const text = await verify();
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`verify account "acct": all 5 proofs hold`);
    const status = await runCliChecked(["status"], env);
    expect(status.stdout).toMatch(
      /proofs: last sweep .* UTC: 0 of \d+ windows differ; chain head [0-9a-f]{16}… \(\d+ links\); last users\/me checkpoint captured/,
    );
    // users/me's personal fields never reach the database: only balances are kept.
    const fields = await query<{ field: string }>(db.url, `SELECT DISTINCT field FROM balance_checkpoint_values ORDER BY 1`);
    expect(fields.map((f) => f.field).every((f) => /^(blocked_)?balance_[a-z_]+$/.test(f))).toBe(true);
    expect(fields.map((f) => f.field)).toContain("blocked_balance_platform");
  }, 120_000);

  test("a row removed from the database: its window's counts and its successor's balance are named", async () => {
    const [victim] = await query<{ id: string; created_at: Date; balance_type: string; row: object }>(
      db.url,
      `SELECT id::text, created_at, balance_type, to_jsonb(t) AS row FROM transactions t WHERE created_at < now() - interval '30 days' ORDER BY created_at DESC LIMIT 1`,
    );
    await query(db.url, `DELETE FROM transactions WHERE id = $1`, [victim!.id]);
    const { code, report } = await verify("--json");
    expect(code).toBe(1);
    const sweep = proof(report, "audit_sweep");
    expect(sweep.findings).toHaveLength(1);
    const [, api, held] = /API (\d+), database (\d+)$/.exec(sweep.findings[0]!)!;
    expect(Number(api) - Number(held)).toBe(1);
    expect(windowOf(sweep.findings, victim!.created_at.getTime())).toBeDefined();
    // The successor of the same type now follows a row whose after_balance does not lead to its own.
    const successor = sim.ledger
      .all()
      .reverse()
      .find((r) => r.balance_type === victim!.balance_type && Date.parse(`${r.created_at}Z`) > victim!.created_at.getTime());
    const chain = proof(report, "balance_chain");
    expect(chain.holds).toBe(false);
    expect(chain.findings[0]).toContain(`transaction ${successor!.id}`);
    // Where transactions holds the current version (storage v2), the hash chain misses it too.
    const v2 = (await query(db.url, `SELECT to_regclass('transaction_history') IS NOT NULL AS v2`))[0].v2 as boolean;
    expect(failing(report)).toEqual(v2 ? ["audit_sweep", "balance_chain", "tamper_evidence"] : ["audit_sweep", "balance_chain"]);
    if (v2) expect(proof(report, "tamper_evidence").findings[0]).toContain(`version missing, first difference at version`);

    // Put back exactly as it was (a repair would record a new version: --repair is tested below).
    await query(db.url, `INSERT INTO transactions SELECT * FROM jsonb_populate_record(NULL::transactions, $1)`, [victim!.row]);
    expect((await verify()).code).toBe(0);
  }, 120_000);

  test("a row the API lists that the database lacks, inserted 60 days back: named, and repaired", async () => {
    const at = Date.now() - 60 * dayMs;
    // Amount 0 keeps every later after_balance true: only the count can tell.
    const row = sim.ledger.add({ created_at: naive(at), amount: "0", balance_type: "platform" });
    await syncOnce(db.url, sim); // the lookback (24h) does not reach it
    expect((await query(db.url, `SELECT 1 FROM transactions WHERE id = $1`, [row.id])).length).toBe(0);
    const { code, report } = await verify("--json");
    expect({ code, failing: failing(report) }).toEqual({ code: 1, failing: ["audit_sweep"] });
    const sweep = proof(report, "audit_sweep");
    expect(sweep.findings).toHaveLength(1);
    expect(windowOf(sweep.findings, at)).toMatch(/API (\d+), database \d+$/);
    const repaired = await verify("--repair");
    expect(repaired.code).toBe(0);
    const versions = await query<{ change: string; run_id: string }>(
      db.url,
      `SELECT change, run_id::text FROM transaction_versions WHERE id = $1`,
      [row.id],
    );
    expect(versions.map((v) => v.change)).toEqual(["insert"]);
    await expectDatabaseEqualsLedger(db.url, sim);
  }, 120_000);

  test("a charge Generect books while it answers users/me: the mirror is exact and balance_checkpoints holds", async () => {
    expect((await verify()).code).toBe(0);
    let landed: SimTransaction | undefined;
    sim.faults.intercept = ({ path }) => {
      // Booked as the request reaches Generect: the balance it answers includes the charge.
      if (path === USERS_ME_PATH && landed === undefined) landed = sim.ledger.add({ amount: "-2.5", balance_type: "platform" });
      return undefined;
    };
    await syncOnce(db.url, sim);
    sim.faults.intercept = undefined;
    const [captured] = await query<{ id: string }>(db.url, `SELECT max(id)::text AS id FROM balance_checkpoints`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await syncOnce(db.url, sim); // its watermark passes the answer: the checkpoint is judged
    await expectDatabaseEqualsLedger(db.url, sim);
    // The charge lies after the request and at or before the answer, and users/me reported its balance.
    const [checkpoint] = await query<{ inside: boolean; reported: boolean }>(
      db.url,
      `SELECT c.captured_at < t.created_at AND t.created_at <= c.received_at AS inside, v.value = t.after_balance AS reported
       FROM balance_checkpoints c JOIN balance_checkpoint_values v ON v.checkpoint_id = c.id AND v.field = 'balance_platform', transactions t
       WHERE c.id = $1 AND t.id = $2`,
      [captured!.id, landed!.id],
    );
    expect(checkpoint).toEqual({ inside: true, reported: true });
    const { code, report } = await verify("--json");
    const checkpoints = proof(report, "balance_checkpoints");
    expect({ code, holds: checkpoints.holds, findings: checkpoints.findings }).toEqual({ code: 0, holds: true, findings: [] });
    expect(checkpoints.summary).toMatch(/^(\d+) checkpoint\(s\) judged of \1 captured \(0 missing\), every balance agrees/);
  }, 120_000);

  test("a gap in the balance chain: where, expected and found", async () => {
    const previous = sim.ledger.all().find((r) => r.balance_type === "platform")!;
    const gap = sim.ledger.add({
      amount: "-2",
      after_balance: (Number(previous.after_balance) - 2 - 7).toFixed(6),
      balance_type: "platform",
    });
    await syncOnce(db.url, sim);
    const { code, report } = await verify("--json");
    expect({ code, failing: failing(report) }).toEqual({ code: 1, failing: ["balance_chain"] });
    const chain = proof(report, "balance_chain");
    expect(chain.findings).toHaveLength(1);
    const expected = await query<{ e: string; f: string }>(db.url, `SELECT ($1::numeric - 2)::text AS e, $2::numeric::text AS f`, [
      previous.after_balance,
      gap.after_balance,
    ]);
    expect(chain.findings[0]).toContain(`platform transaction ${gap.id} at `);
    expect(chain.findings[0]).toContain(`expected after_balance ${expected[0]!.e} (`);
    expect(chain.findings[0]).toContain(`after ${previous.id}, + -2), found ${expected[0]!.f}`);
    // The API stops listing it: the next run marks it deleted and the chain holds again. The
    // checkpoint taken while the API listed it still says so: the history changed behind it.
    sim.ledger.remove(gap.id);
    await syncOnce(db.url, sim);
    const after = await verify("--json");
    expect({ code: after.code, failing: failing(after.report) }).toEqual({ code: 1, failing: ["balance_checkpoints"] });
    const gapBalance = (await query<{ v: string }>(db.url, `SELECT $1::numeric::text AS v`, [gap.after_balance]))[0]!.v;
    expect(proof(after.report, "balance_checkpoints").findings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^checkpoint \\d+ at .*: balance_platform is ${gapBalance.replace(".", "\\.")} in users/me, the ledger's latest after_balance is ${previous.after_balance.replace(".", "\\.")}`,
        ),
      ),
    ]);
  }, 120_000);

  test("one version's amount edited by hand: the first changed version is named, and the digest kept before the edit no longer comes out", async () => {
    const [run] = await query<{ head_digest: string }>(
      db.url,
      `SELECT head_digest FROM sync_runs WHERE head_digest IS NOT NULL ORDER BY id DESC LIMIT 1`,
    );
    const digest = run!.head_digest;
    const before = await verify("--json", "--digest", digest);
    expect(proof(before.report, "tamper_evidence")).toMatchObject({ holds: true, findings: [] });
    expect(proof(before.report, "tamper_evidence").summary).toMatch(new RegExp(`digest ${digest} reproduced at link \\d+`));
    const history = (await query(db.url, `SELECT to_regclass('transaction_history') IS NOT NULL AS v2`))[0].v2 as boolean;
    // The table that holds a version by hand: transaction_versions before storage v2, transactions (current versions) after.
    const table = history ? "transactions" : "transaction_versions";
    const [target] = await query<{ version_id: string; id: string }>(
      db.url,
      `SELECT version_id::text, id::text FROM ${table} ORDER BY version_id OFFSET 500 LIMIT 1`,
    );
    await query(db.url, `UPDATE ${table} SET amount = amount - 100 WHERE version_id = $1`, [target!.version_id]);
    const { code, stdout, report } = await verify("--json", "--digest", digest);
    expect(code).toBe(1);
    const tamper = proof(report, "tamper_evidence");
    expect(tamper.holds).toBe(false);
    expect(tamper.summary).toContain(`digest ${digest} NOT reproduced by the history`);
    expect(tamper.findings[0]).toContain(`version ${target!.version_id} of transaction ${target!.id} no longer produces the leaf`);
    expect(stdout).not.toContain("amount - 100");
    await query(db.url, `UPDATE ${table} SET amount = amount + 100 WHERE version_id = $1`, [target!.version_id]);
    const restored = await verify("--digest", digest);
    expect(restored.stdout).toMatch(new RegExp(`tamper_evidence +holds .*digest ${digest} reproduced at link \\d+`));
  }, 120_000);

  test("a users/me balance that disagrees is named; a failing users/me is recorded as missing and never fails the run", async () => {
    sim.faults.transformUsersMe = (body) => ({ ...body, balance_leads_by_icp: new JsonNumber("-4242.5") });
    await syncOnce(db.url, sim);
    sim.faults.transformUsersMe = undefined;
    const truth = sim.ledger.all().find((r) => r.balance_type === "leads_by_icp");
    const ledgerValue = (await query<{ v: string }>(db.url, `SELECT $1::numeric::text AS v`, [truth?.after_balance ?? "0"]))[0]!.v;
    const { code, report } = await verify("--json");
    expect({ code, failing: failing(report) }).toEqual({ code: 1, failing: ["balance_checkpoints"] });
    const checkpoints = proof(report, "balance_checkpoints").findings.filter((f) => f.includes("balance_leads_by_icp"));
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0]).toMatch(
      new RegExp(
        `^checkpoint \\d+ at .*: balance_leads_by_icp is -4242.5 in users/me, the ledger's latest after_balance is ${ledgerValue.replace(".", "\\.")}`,
      ),
    );

    sim.faults.intercept = ({ path }) => (path === USERS_ME_PATH ? { status: 503, body: '{"detail":"down"}' } : undefined);
    const summary = await syncOnce(db.url, sim);
    sim.faults.intercept = undefined;
    expect(summary.checkpoint).toBe("missing");
    const [last] = await query<{ outcome: string; error_code: string }>(
      db.url,
      `SELECT outcome, error_code FROM balance_checkpoints ORDER BY id DESC LIMIT 1`,
    );
    expect(last).toEqual({ outcome: "missing", error_code: "API_UNAVAILABLE" });
    const [lastRun] = await query<{ status: string }>(db.url, `SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1`);
    expect(lastRun!.status).toBe("succeeded");
  }, 120_000);

  test("a users/me balance the ledger held at no instant from the request to the answer is named: one held before the request, one only after the answer, one reached by a row booked meanwhile and deleted since", async () => {
    // Before the request: the balance_companies_by_icp before its latest row.
    const [latest, previous] = sim.ledger.all().filter((r) => r.balance_type === "companies_by_icp");
    expect(previous!.after_balance).not.toBe(latest!.after_balance);
    let booked: SimTransaction | undefined;
    let charged: SimTransaction | undefined;
    sim.faults.intercept = ({ path }) => {
      if (path === USERS_ME_PATH && booked === undefined) {
        booked = sim.ledger.add({ amount: "-1.25", balance_type: "platform" });
        charged = sim.ledger.add({ amount: "-1", balance_type: "leads_by_icp" });
      }
      return undefined;
    };
    sim.faults.transformUsersMe = (body) => ({
      ...body,
      balance_companies_by_icp: new JsonNumber(previous!.after_balance),
      balance_leads_by_icp: new JsonNumber(addDecimals(charged!.after_balance, "-3")),
    });
    await syncOnce(db.url, sim);
    sim.faults.intercept = undefined;
    sim.faults.transformUsersMe = undefined;
    const [checkpoint] = await query<{ id: string }>(
      db.url,
      `SELECT id::text FROM balance_checkpoints WHERE outcome = 'captured' ORDER BY id DESC LIMIT 1`,
    );
    // After the answer: the leads_by_icp balance users/me reported. Generect deletes the platform charge.
    const later = sim.ledger.add({ amount: "-3", balance_type: "leads_by_icp" });
    sim.ledger.remove(booked!.id);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await syncOnce(db.url, sim);
    await expectDatabaseEqualsLedger(db.url, sim);
    const { code, report } = await verify("--json");
    expect(code).toBe(1);
    const mine = proof(report, "balance_checkpoints").findings.filter((f) => f.startsWith(`checkpoint ${checkpoint!.id} `));
    const decimal = async (value: string) => (await query<{ v: string }>(db.url, `SELECT $1::numeric::text AS v`, [value]))[0]!.v;
    const named = async (field: string, api: string, ledger: SimTransaction) =>
      `: ${field} is ${await decimal(api)} in users/me, the ledger's latest after_balance is ${await decimal(ledger.after_balance)} (transaction ${ledger.id}), and no live row of that type created from then until the answer at `;
    expect(mine).toEqual([
      expect.stringContaining(await named("balance_companies_by_icp", previous!.after_balance, latest!)),
      expect.stringContaining(
        await named(
          "balance_leads_by_icp",
          later.after_balance,
          sim.ledger.all().find((r) => r.balance_type === "leads_by_icp" && r.id !== later.id && r.id !== charged!.id)!,
        ),
      ),
      expect.stringContaining(
        await named("balance_platform", booked!.after_balance, sim.ledger.all().find((r) => r.balance_type === "platform")!),
      ),
    ]);
  }, 120_000);

  test("a row moved 10 days back: both windows named; --repair makes the database equal the truth, its history showing the move", async () => {
    const candidates = sim.ledger.all().filter((r) => {
      const t = Date.parse(`${r.created_at}Z`);
      return t < Date.now() - 5 * dayMs && t > Date.now() - 6 * dayMs;
    });
    const row = candidates[0]!;
    const movedTo = Date.parse(`${row.created_at}Z`) - 10 * dayMs;
    sim.ledger.update(row.id, { created_at: naive(movedTo), updated_at: row.updated_at });
    await syncOnce(db.url, sim);
    const { code, report } = await verify("--json");
    expect(code).toBe(1);
    const sweep = proof(report, "audit_sweep");
    expect(sweep.findings).toHaveLength(2);
    expect(windowOf(sweep.findings, movedTo)).toMatch(/API (\d+), database \d+$/);
    expect(windowOf(sweep.findings, Date.parse(`${row.created_at}Z`))).toBeDefined();

    const repaired = await verify("--json", "--repair");
    expect(proof(repaired.report, "audit_sweep").holds).toBe(true);
    await expectDatabaseEqualsLedger(db.url, sim);
    const versions = await query<{ change: string; created_at: Date }>(
      db.url,
      `SELECT change, created_at FROM transaction_versions WHERE id = $1 ORDER BY version_id`,
      [row.id],
    );
    expect(versions.map((v) => v.change)).toEqual(["insert", "update"]);
    expect(versions[1]!.created_at.getTime() - versions[0]!.created_at.getTime()).toBe(-10 * dayMs);
  }, 120_000);

  test("run --full walks the whole history: an in-place change older than the lookback, which no count shows, gets its version", async () => {
    const old = sim.ledger.all().find((r) => Date.parse(`${r.created_at}Z`) < Date.now() - 90 * dayMs)!;
    sim.ledger.update(old.id, { description: "restated by Generect" });
    await syncOnce(db.url, sim);
    expect((await query(db.url, `SELECT 1 FROM transaction_versions WHERE id = $1 AND change = 'update'`, [old.id])).length).toBe(0);
    expect(proof((await verify("--json")).report, "audit_sweep").holds).toBe(true);
    await syncOnce(db.url, sim, {}, { full: true });
    const versions = await query<{ change: string; description: string }>(
      db.url,
      `SELECT change, description FROM transaction_versions WHERE id = $1 ORDER BY version_id`,
      [old.id],
    );
    expect(versions.map((v) => [v.change, v.description])).toEqual([
      ["insert", old.description],
      ["update", "restated by Generect"],
    ]);
    await expectDatabaseEqualsLedger(db.url, sim);
  }, 120_000);

  test("the worker sweeps on VERIFY_CRON and records it; a bad VERIFY_CRON is named", async () => {
    const sweeps = async () => Number((await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM audit_sweeps`))[0]!.n);
    const before = await sweeps();
    const never = "0 0 1 1 *";
    const worker = spawnCli(["worker"], { ...env, LOG_LEVEL: "info", SYNC_CRON: never, SNAPSHOT_CRON: never, VERIFY_CRON: "* * * * * *" });
    await waitFor(async () => (await sweeps()) > before, 30_000, "a sweep by the worker");
    worker.child.kill("SIGTERM");
    const result = await worker.done;
    expect(result.code).toBe(143);
    expect(result.stderr).toMatch(/"msg":"audit sweep: every window agrees"/);
    expect(result.stderr).not.toContain(testToken);
    const bad = await runCliChecked(["worker"], { ...env, VERIFY_CRON: "daily" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("VERIFY_CRON");
  }, 60_000);

  test("usage errors exit 2", async () => {
    const bad = await runCliChecked(["verify", "--digest", "xyz"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--digest");
  }, 60_000);
});

describe("verify: what no leaf holds", () => {
  // A leaf holds a version's content; its deletion mark and its history row's validity are fixed by
  // the versions around it. Edited by hand, each is named, though every leaf is unchanged.
  const made = perTest();
  test("a deletion mark set or cleared by hand, a superseded version's valid_to or change: each named by tamper_evidence", async () => {
    const db = made.database(await createMigratedDatabase("proofs_marks"));
    const sim = made.simulator(await seededSimulator(4242, 400, 60));
    const env = { GENERECT_API_TOKEN: testToken, GENERECT_API_URL: sim.url, DATABASE_URL: db.url, SYNC_ACCOUNT: "acct", LOG_LEVEL: "warn" };
    const tamper = async () => {
      const result = await runCliChecked(["verify", "--json"], env);
      const report = JSON.parse(result.stdout) as Report;
      return { code: result.code, failing: report.proofs.filter((p) => !p.holds).map((p) => p.name), ...proofOf(report) };
    };
    const proofOf = (report: Report) => {
      const p = report.proofs.find((x) => x.name === "tamper_evidence")!;
      return { holds: p.holds, findings: p.findings };
    };
    // Two rows of one instant's neighbourhood, amount 0 (no count or balance tells them apart); Generect deletes B.
    const at = Date.now() - 2 * 3600_000;
    const a = sim.ledger.add({ created_at: naive(at), amount: "0", description: "zero A" });
    const b = sim.ledger.add({ created_at: naive(at + 1000), amount: "0", description: "zero B" });
    await syncOnce(db.url, sim);
    sim.ledger.remove(b.id);
    await syncOnce(db.url, sim);
    await expectDatabaseEqualsLedger(db.url, sim);
    expect(await tamper()).toMatchObject({ code: 0, holds: true, findings: [] });
    const edit = async (sql: string, id: string) => query(db.url, sql, [id]);
    const [version] = await query<{ version_id: string }>(db.url, "SELECT version_id::text FROM transactions WHERE id = $1", [a.id]);

    // A live row hidden: the audit sweep and the balance chain would miss it (amount 0 and, below, B back in its window).
    await edit("UPDATE transactions SET deleted_at = now() WHERE id = $1", a.id);
    expect(await tamper()).toMatchObject({
      holds: false,
      findings: [expect.stringContaining(`version ${version!.version_id} of transaction ${a.id} is marked deleted`)],
    });
    // ... and the row Generect deleted brought back beside it: the mirror is wrong, every count agrees.
    await edit("UPDATE transactions SET deleted_at = NULL WHERE id = $1", b.id);
    await expect(expectDatabaseEqualsLedger(db.url, sim)).rejects.toThrow(/differs/);
    const swapped = await tamper();
    expect(swapped).toMatchObject({ code: 1, failing: ["tamper_evidence"], holds: false });
    expect(swapped.findings).toEqual([expect.stringContaining(`transaction ${a.id} is marked deleted`)]);
    await edit("UPDATE transactions SET deleted_at = NULL WHERE id = $1", a.id);
    expect((await tamper()).findings).toEqual([expect.stringContaining(`transaction ${b.id} is not marked deleted`)]);
    await edit("UPDATE transactions SET deleted_at = last_seen_at WHERE id = $1", b.id);
    await expectDatabaseEqualsLedger(db.url, sim);
    expect(await tamper()).toMatchObject({ code: 0, holds: true });

    // B's live version, superseded by its deletion: when it ended, and what ended it.
    await edit("UPDATE transaction_history SET valid_to = valid_to + interval '1 hour' WHERE id = $1", b.id);
    expect((await tamper()).findings).toEqual([
      expect.stringContaining(`transaction ${b.id} ends (valid_to) where the next version does not begin`),
    ]);
    await edit("UPDATE transaction_history SET valid_to = valid_to - interval '1 hour' WHERE id = $1", b.id);
    await edit("UPDATE transaction_history SET change = 'update' WHERE id = $1", b.id);
    expect((await tamper()).findings).toEqual([expect.stringContaining(`transaction ${b.id} says it was superseded by a deletion`)]);
    await edit("UPDATE transaction_history SET change = 'delete' WHERE id = $1", b.id);
    expect(await tamper()).toMatchObject({ code: 0, holds: true });
  }, 120_000);
});
