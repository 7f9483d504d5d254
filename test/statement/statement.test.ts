// The auditor's statement against the simulator's truth: a three-year ledger with later updates,
// deletions and restated snapshots, in UTC and in +05:30; an empty and a partially synced account.
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { main } from "../../src/cli/main.js";
import { runSnapshot } from "../../src/job/run.js";
import { addDecimals, Ledger, type SimulatorHandle } from "../../src/simulator/index.js";
import type { Statement } from "../../src/statement/model.js";
import { findChromium } from "../../src/statement/pdf.js";
import { buildStatement } from "../../src/statement/query.js";
import { runCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { LogCapture, seededSimulator, startTestSimulator, syncOnce, testConfig, testToken } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";
import { localMonth, perMonth, spentByDay, truthLines } from "./truth.js";

const zones = ["UTC", "Asia/Kolkata"];

/** The command in this process (the CLI's own main, minus the child process): for the cheap cases. */
async function statementIn(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(["statement", ...args], { env, out: (l) => (stdout += `${l}\n`), note: (l) => (stderr += `${l}\n`) });
  return { code, stdout, stderr };
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trimEnd().split("\n");
  const names = header!.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [names[i]!, v])));
}

describe("statement", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const to = new Date(Date.now() - 120_000);
  const env = (timezone: string, account = "acct") => ({ DATABASE_URL: db.url, SYNC_ACCOUNT: account, SYNC_TIMEZONE: timezone });
  const snapshot = (timezone: string, account = "acct") =>
    runSnapshot({
      config: testConfig(sim, { timezone, account }),
      databaseUrl: db.url,
      log: new LogCapture().logger,
      clientOptions: { minRetryDelayMs: 1, maxRetryDelayMs: 2 },
    });
  const changed: Record<string, string> = {};
  /** Generect's daily figures as the captures stored them: taken before the changes, re-read after only for the restate window. */
  const captured = new Map<string, Map<string, string>>();

  beforeAll(async () => {
    db = await createMigratedDatabase("statement");
    sim = await seededSimulator(19, 4000, 3 * 365, { to });
    // A top-up the API sends with a null description (tolerant ingestion stores it): still a top-up.
    const topUp = sim.ledger
      .all()
      .find((r) => !r.amount.startsWith("-") && r.amount !== "0" && r.status !== "pending" && !/refund/i.test(r.description))!;
    sim.ledger.setOdd(topUp.id, "null-description");
    await syncOnce(db.url, sim, { windowMs: days(120) });
    for (const zone of zones) await snapshot(zone);
    for (const zone of zones) captured.set(zone, spentByDay(sim, zone));

    // After the first sync Generect changes its past: a recent charge is reversed (its day's spend
    // is restated), an old one too, and a row two years back disappears (the balance chain breaks).
    const rows = sim.ledger.all();
    const charge = (ageDays: number) =>
      rows.find(
        (r) => r.status === "success" && r.amount.startsWith("-") && Date.parse(`${r.created_at}Z`) < Date.now() - ageDays * dayMs,
      )!;
    const recent = charge(10);
    const old = charge(500);
    const gone = charge(700);
    sim.ledger.update(recent.id, { status: "error" });
    sim.ledger.update(old.id, { status: "error" });
    sim.ledger.remove(gone.id);
    Object.assign(changed, { recent: recent.created_at, old: old.created_at, gone: gone.created_at });
    // The whole history is walked again so the sync sees the changes (the default lookback is a day).
    await syncOnce(db.url, sim, { windowMs: days(120), lookbackMs: days(1460) });
    for (const zone of zones) await snapshot(zone);
    // A capture re-reads SNAPSHOT_RESTATE_DAYS (35) before its last captured day (today): Generect's
    // figures for older days stay as first captured, the days since are restated.
    for (const zone of zones) {
      const restateFrom = new Date(
        Date.parse(`${new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(Date.now())}T00:00:00Z`) - 35 * dayMs,
      )
        .toISOString()
        .slice(0, 10);
      const now = spentByDay(sim, zone);
      const stored = captured.get(zone)!;
      for (const key of [...stored.keys()]) if (key >= restateFrom) stored.delete(key);
      for (const [key, value] of now) if (key >= restateFrom) stored.set(key, value);
    }
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("the database holds the changes: versions, a deletion and a restated snapshot", async () => {
    const [counts] = await query<{ updates: string; deleted: string; restated: string }>(
      db.url,
      `SELECT (SELECT count(*) FROM transaction_versions WHERE change = 'update')::text AS updates,
              (SELECT count(*) FROM transactions WHERE deleted_at IS NOT NULL)::text AS deleted,
              (SELECT count(*) FROM (SELECT 1 FROM spent_credit_snapshots WHERE timezone = 'UTC' GROUP BY day, endpoint HAVING count(*) > 1) r)::text AS restated`,
    );
    expect(Number(counts!.updates)).toBeGreaterThanOrEqual(2);
    expect(counts!.deleted).toBe("1");
    expect(Number(counts!.restated)).toBeGreaterThanOrEqual(1);
  });

  test.each(zones)("every figure equals the simulator's truth, month by month and balance type, in %s", async (timezone) => {
    // The child process (the real CLI) once, the same code in-process for the other zone.
    const json =
      timezone === "UTC"
        ? await runCli(["statement", "--format", "json"], env(timezone))
        : await statementIn(["--format", "json"], env(timezone));
    expect(json.code).toBe(0);
    const statement = JSON.parse(json.stdout) as Statement;
    const current = localMonth(new Date().toISOString().slice(0, 23), timezone);
    const truth = truthLines(sim, timezone, current, perMonth(captured.get(timezone)!));
    expect(statement.lines.length).toBeGreaterThan(36 * 2);
    expect(statement.lines.map(({ account, complete, ...line }) => line)).toEqual(truth);
    // Only the month in progress is after the watermark's reach.
    expect(statement.lines.filter((l) => !l.complete).map((l) => l.month)).toEqual(
      statement.lines.filter((l) => l.month === current).map((l) => l.month),
    );
    // The deleted row's month is the one (per type) whose balances do not add up, and it is shown.
    const off = statement.lines.filter((l) => l.balance_difference !== "0");
    expect(off.length).toBeGreaterThanOrEqual(1);
    expect(off.map((l) => l.month)).toContain(localMonth(changed.gone!, timezone));
    // Generect's figure differs from the ledger's exactly where its capture was not restated (the
    // two old changes); the recent reversal was re-read and agrees again.
    const differing = new Set(statement.lines.filter((l) => l.difference !== "0").map((l) => l.month));
    expect(differing).toEqual(new Set([localMonth(changed.old!, timezone), localMonth(changed.gone!, timezone)]));
    expect(statement.proofs.days_differing).toEqual({ available: true, value: 2 });
    // The row deleted upstream leaves its successor's after_balance unexplained: one break per type it touched.
    expect(statement.proofs.balance_chain_breaks).toEqual({ available: true, value: expect.any(Number) });
    expect((statement.proofs.balance_chain_breaks as { value: number }).value).toBeGreaterThanOrEqual(1);
    expect(statement.proofs.quarantined_rows).toEqual({ available: true, value: 0 });
    expect(statement.provenance).toMatchObject({
      timezone,
      first_run_id: expect.any(String),
      last_run_id: expect.any(String),
      watermark: expect.stringMatching(/Z$/),
    });

    const csv = await statementIn(["--format", "csv"], env(timezone));
    const rows = parseCsv(csv.stdout);
    expect(csv.stdout.split("\n")[0]).toMatch(
      /^account,month,balance_type,opening_balance,charges,top_ups,refunds,reversed,pending,closing_balance,generect_spent,difference,/,
    );
    expect(rows).toEqual(
      statement.lines.map((l) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v === null ? "" : String(v)]))),
    );
    // Totals of the charges equal the simulator's total of settled charges.
    const total = statement.lines.reduce((acc, l) => addDecimals(acc, l.charges!), "0");
    expect(total).toBe(
      sim.ledger
        .all()
        .filter((r) => r.status === "success" && r.amount.startsWith("-"))
        .reduce((acc, r) => addDecimals(acc, r.amount), "0"),
    );
  });

  test("a range: --from/--to select whole months, bad arguments are usage errors", async () => {
    const month = localMonth(new Date(Date.now() - 400 * dayMs).toISOString().slice(0, 23), "UTC");
    const json = JSON.parse((await statementIn(["--format", "json", "--from", month, "--to", month], env("UTC"))).stdout) as Statement;
    expect(new Set(json.lines.map((l) => l.month))).toEqual(new Set([month]));
    expect(json.days.length).toBeGreaterThanOrEqual(28);
    for (const args of [["--from", "2025-13"], ["--from", "2025-05", "--to", "2025-01"], ["--format", "xml"], ["--all"]]) {
      const result = await statementIn(args, env("UTC"));
      expect(result.code).toBe(2);
    }
    expect((await statementIn(["--all"], env("UTC"))).stderr).toContain("--all needs a fleet file");
  });

  test("an account never synced, and one whose runs found no transactions, say so and hold no figures", async () => {
    const result = await statementIn(["--format", "json"], env("UTC", "nobody"));
    expect(result.code).toBe(0);
    const statement = JSON.parse(result.stdout) as Statement;
    expect(statement.lines).toEqual([]);
    expect(statement.notices.join("\n")).toContain('account "nobody" has never been synced');
    expect(statement.provenance.watermark).toBeNull();
    expect(statement.days.every((d) => d.state === "incomplete")).toBe(true);
    expect((await statementIn(["--format", "csv"], env("UTC", "nobody"))).stdout.trim().split("\n")).toHaveLength(1);

    // Synced, but Generect has no transaction for it: said so, still no invented lines.
    const empty = await startTestSimulator({ ledger: new Ledger([]) });
    await syncOnce(db.url, empty, { account: "empty" });
    await empty.close();
    const synced = JSON.parse((await statementIn(["--format", "json"], env("UTC", "empty"))).stdout) as Statement;
    expect(synced.lines).toEqual([]);
    expect(synced.notices[0]).toMatch(
      /^account "empty" has no watermark: its runs \(\d+ to \d+\) walked no transactions, this statement holds no figures, not zeros$/,
    );
    expect(synced.provenance.first_run_id).not.toBeNull();
    expect(synced.days.every((d) => d.state === "incomplete")).toBe(true);
  });

  test("a partially synced account marks the months after the watermark unknown instead of zero", async () => {
    // The API fails every window from a cutoff on: the run commits the windows before it and fails.
    const cutoff = new Date(Date.now() - 400 * dayMs);
    const other = await seededSimulator(20, 800, 3 * 365, { to });
    // And one row arrives without an id: it is quarantined, and the statement's proofs count it.
    other.faults.badRowRate = 0.5;
    other.faults.badRowKinds = ["missing-id"];
    other.faults.intercept = ({ path, query: q }) => {
      const gte = q.get("created_at__gte");
      return path.includes("transactions") && !path.includes("spent") && gte && Date.parse(`${gte}Z`) >= cutoff.getTime()
        ? { status: 503, body: "{}" }
        : undefined;
    };
    const failed = await syncOnce(db.url, other, { account: "part", windowMs: days(60) }).then(
      () => undefined,
      (e: Error) => e,
    );
    await other.close();
    expect(failed?.message).toMatch(/503/);
    const [{ w }] = (await query<{ w: string }>(
      db.url,
      "SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM') AS w FROM sync_state WHERE account = 'part'",
    )) as [{ w: string }];
    expect(w <= localMonth(new Date(cutoff.getTime() + 60 * dayMs).toISOString().slice(0, 23), "UTC")).toBe(true); // the last committed window ends at most one window past the cutoff

    const statement = JSON.parse((await statementIn(["--format", "json"], env("UTC", "part"))).stdout) as Statement;
    const after = statement.lines.filter((l) => l.month > w);
    expect(after.length).toBeGreaterThan(0);
    for (const l of after) expect([l.complete, l.charges, l.closing_balance, l.difference]).toEqual([false, null, null, null]);
    expect(statement.lines.filter((l) => l.month < w).every((l) => l.complete && l.charges !== null)).toBe(true);
    expect(statement.notices.join("\n")).toMatch(/not yet complete, their figures may still grow/);
    expect(statement.proofs.days_not_complete).toMatchObject({
      available: true,
      value: { first: expect.stringMatching(new RegExp(`^${w}|^\\d{4}-\\d\\d`)) },
    });
    const [{ n }] = (await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM quarantined_rows WHERE account = 'part' AND resolved_at IS NULL",
    )) as [{ n: number }];
    expect(n).toBeGreaterThanOrEqual(1);
    expect(statement.proofs.quarantined_rows).toEqual({ available: true, value: n });
    void testToken;
  });

  // generate_series over two dates steps from local midnight in the session's TimeZone: where a DST
  // change skips midnight (America/Santiago on 2026-09-06, America/Havana on 2026-03-08) the days
  // moved to 01:00 and the span's last day was left out. The command's session takes the server's
  // default zone, whatever it is.
  test("the days and lines are the same in a session whose TimeZone skips midnight", async () => {
    const from = "2026-02";
    const to = "2026-10";
    const now = new Date();
    const build = async (session: string, timezone: string) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(`SET TimeZone = '${session}'`);
        return await buildStatement(client, { account: "acct", timezone, from, to, version: "test", now });
      } finally {
        await client.end();
      }
    };
    const everyDay = Array.from({ length: 273 }, (_, i) =>
      new Date(Date.parse("2026-02-01T00:00:00Z") + i * dayMs).toISOString().slice(0, 10),
    );
    expect(everyDay.at(-1)).toBe("2026-10-31");
    // A capture in a zone of its own that ends on October's first day: October is captured.
    const [{ run }] = (await query<{ run: string }>(db.url, "SELECT max(id)::text AS run FROM sync_runs WHERE account = 'acct'")) as [
      { run: string },
    ];
    await query(
      db.url,
      `INSERT INTO spent_credit_captures (account, timezone, start_day, end_day, captured_at, run_id, api_total, values_total, buckets)
       VALUES ('acct', 'Europe/Paris', '2026-02-20', '2026-10-01', now(), $1, 0, 0, 0)`,
      [run],
    );
    try {
      for (const timezone of ["UTC", "Europe/Paris"]) {
        const utc = await build("UTC", timezone);
        expect(utc.days.map((d) => d.day)).toEqual(everyDay);
        expect(new Set(utc.lines.map((l) => l.month)).size).toBe(9);
        if (timezone === "Europe/Paris") {
          const october = utc.lines.filter((l) => l.month === "2026-10");
          expect(october.length).toBeGreaterThan(0);
          expect(october.map((l) => l.generect_spent)).toEqual(october.map(() => "0"));
          expect(utc.days.filter((d) => d.state === "not_captured").map((d) => d.day)).toEqual(
            everyDay.filter((d) => d < "2026-02-20" || d > "2026-10-01"),
          );
        }
        for (const session of ["America/Santiago", "America/Havana"])
          expect({ session, timezone, ...(await build(session, timezone)) }).toEqual({ session, timezone, ...utc });
      }
    } finally {
      await query(db.url, "DELETE FROM spent_credit_captures WHERE account = 'acct' AND timezone = 'Europe/Paris'");
    }
  }, 60_000);

  test("spend Generect reports on a balance type whose only row was deleted has a line with its difference", async () => {
    const ledger = new Ledger([], { seed: 31 });
    const ago = (n: number) => new Date(Date.now() - n * dayMs);
    ledger.add({ created_at: ago(90), amount: "100", description: "Top-up" });
    ledger.add({ created_at: ago(80), amount: "-2" });
    ledger.add({ created_at: ago(50), amount: "-1" });
    // Older than the snapshot's restate window: Generect's figure for its day stays as captured.
    const only = ledger.add({ created_at: ago(60), balance_type: "email_verifier", amount: "-3" });
    const single = await startTestSimulator({ ledger });
    try {
      await syncOnce(db.url, single, { account: "lone" }, { snapshots: true });
      single.ledger.remove(only.id);
      await syncOnce(db.url, single, { account: "lone", lookbackMs: days(120) }, { snapshots: true });
    } finally {
      await single.close();
    }
    const stored = await query<{ live: number; deleted: number }>(
      db.url,
      `SELECT count(*) FILTER (WHERE deleted_at IS NULL)::int AS live, count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted
       FROM transactions WHERE account = 'lone' AND balance_type = 'email_verifier'`,
    );
    expect(stored).toEqual([{ live: 0, deleted: 1 }]);
    const day = only.created_at.slice(0, 10);
    const reconciled = await query(
      db.url,
      "SELECT api_spent::text, ledger_spent::text, difference::text FROM credit_reconciliation_daily WHERE account = 'lone' AND timezone = 'UTC' AND day = $1",
      [day],
    );
    expect(reconciled).toEqual([{ api_spent: "-3", ledger_spent: "0", difference: "-3" }]);

    const statement = JSON.parse((await statementIn(["--format", "json"], env("UTC", "lone"))).stdout) as Statement;
    const month = localMonth(only.created_at, "UTC");
    expect(statement.lines.filter((l) => l.balance_type === "email_verifier")).toEqual([
      expect.objectContaining({
        month,
        balance_type: "email_verifier",
        opening_balance: null,
        charges: "0",
        closing_balance: null,
        generect_spent: "-3",
        difference: "-3",
        complete: true,
      }),
    ]);
    expect(statement.proofs.days_differing).toEqual({ available: true, value: 1 });
  }, 60_000);
});

describe("statement HTML in a headless Chromium", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let dir: string;

  beforeAll(async () => {
    db = await createMigratedDatabase("statement-html");
    sim = await seededSimulator(23, 2500, 400, { to: new Date(Date.now() - 120_000) });
    await syncOnce(db.url, sim, { windowMs: days(120) }, { snapshots: true });
    dir = await mkdtemp(path.join(os.tmpdir(), "statement-"));
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("no console errors or requests, every chart with its bars and points, every figure equals the CSV; a screenshot and a PDF", async () => {
    const executablePath = findChromium(process.env);
    if (!executablePath) throw new Error("no Chromium: apt-get install chromium, or set GENERECT_CHROMIUM (.ci/run installs it)");
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1)).toISOString().slice(0, 7); // twelve months to this one
    const env = { DATABASE_URL: db.url, SYNC_ACCOUNT: "acct", SYNC_TIMEZONE: "UTC" };
    const html = path.join(dir, "statement.html");
    const pdf = path.join(dir, "statement.pdf");
    const made = await runCli(["statement", "--from", from, "--out", html, "--pdf", pdf], env);
    expect(made.stderr).toContain(`written to ${html} and ${pdf}`);
    expect(made.code).toBe(0);
    const csv = parseCsv((await statementIn(["--from", from, "--format", "csv"], env)).stdout);
    const months = [...new Set(csv.map((r) => r.month))];
    expect(months.length).toBe(12);

    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("request", (r) => !r.url().startsWith("file:") && problems.push(`request ${r.url()}`));
      await page.goto(`file://${html}`);
      expect(problems).toEqual([]);

      expect(await page.locator("#spend-chart g.bar").count()).toBe(12);
      const spending = csv.filter((r) => r.charges !== "0" && r.charges !== "");
      expect(await page.locator("#spend-chart rect.segment").count()).toBe(spending.length);
      expect(await page.locator("#balance-chart polyline.series").count()).toBe(new Set(csv.map((r) => r.balance_type)).size);
      expect(await page.locator("#balance-chart circle.point").count()).toBe(csv.filter((r) => r.closing_balance !== "").length);
      const today = new Date().toISOString().slice(0, 10);
      const days = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${from}-01T00:00:00Z`)) / dayMs) + 1;
      expect(await page.locator("#calendar rect.day").count()).toBe(days);
      expect(await page.locator("#calendar rect.day-agrees").count()).toBeGreaterThan(days - 3);

      // Every figure as printed (grouped for en-US) reads back as the CSV's exact text.
      const ungroup = (text: string) => (text === "n/a" ? "" : text.replace(/,/g, ""));
      const columns = [
        "opening_balance",
        "charges",
        "top_ups",
        "refunds",
        "reversed",
        "pending",
        "closing_balance",
        "balance_difference",
        "generect_spent",
        "difference",
      ];
      const lines = await page.locator("#summary tr.line").evaluateAll(
        (trs, cols) =>
          trs.map((tr) => ({
            month: tr.getAttribute("data-month"),
            type: tr.getAttribute("data-type"),
            cells: cols.map((c) => tr.querySelector(`td.${c}`)!.textContent!),
          })),
        columns,
      );
      expect(lines.map((l) => [l.month, l.type, ...l.cells.map(ungroup)])).toEqual(
        csv.map((r) => [r.month, r.balance_type, ...columns.map((c) => r[c])]),
      );
      expect(lines.some((l) => l.cells.some((c) => /\d,\d{3}/.test(c)))).toBe(true); // grouping is applied somewhere
      const totals = await page
        .locator("#totals tr.total")
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.getAttribute("data-type"),
            ...["charges", "top_ups", "refunds", "reversed", "generect_spent"].map((c) => tr.querySelector(`td.${c}`)!.textContent!),
          ]),
        );
      const expected = [...new Set(csv.map((r) => r.balance_type))].map((t) => [
        t,
        ...["charges", "top_ups", "refunds", "reversed", "generect_spent"].map((c) =>
          csv.filter((r) => r.balance_type === t).reduce((acc, r) => addDecimals(acc, r[c]!), "0"),
        ),
      ]);
      expect(totals.map(([t, ...v]) => [t, ...v.map((x) => ungroup(x!))])).toEqual(expected);

      const shot = path.join(dir, "statement.png");
      await page.locator("#charts").screenshot({ path: shot });
      const png = await readFile(shot);
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.readUInt32BE(16)).toBeGreaterThan(800); // width
      expect(png.length).toBeGreaterThan(20_000);
      expect(png.length).toBeLessThan(400_000);
      if (process.env.GENERECT_STATEMENT_PNG) await copyFile(shot, process.env.GENERECT_STATEMENT_PNG);
    } finally {
      await browser.close();
    }

    const printed = await readFile(pdf);
    expect(printed.subarray(0, 5).toString()).toBe("%PDF-");
    expect(printed.length).toBeGreaterThan(20_000);
    const pages = printed.toString("latin1").match(/\/Type\s*\/Page(?![s\w])/g)?.length ?? 0;
    expect(pages).toBeGreaterThanOrEqual(3); // summary, charts, proofs: each section starts a page
    expect(pages).toBeLessThan(20);
  }, 60_000);

  test("--pdf without a Chromium is a clear error", async () => {
    const result = await statementIn(["--pdf", path.join(dir, "x.pdf")], {
      DATABASE_URL: db.url,
      SYNC_ACCOUNT: "acct",
      GENERECT_CHROMIUM: "/nonexistent/chromium",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[CHROMIUM_MISSING]: --pdf needs a Chromium: set GENERECT_CHROMIUM");
  });
});
