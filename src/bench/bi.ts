// `npm run bench -- --bi`: the BI side at the ledger's size. The simulator's ledger (the rows a
// backfill of --rows would write) goes into `transactions` with one COPY, the rollups are built by
// the sync's own code path (refreshRollups, window after window), the spent-credit snapshots are
// captured from the simulator in SYNC_TIMEZONE=Asia/Kolkata, a zone is registered as SYNC_ROLLUP_ZONES
// would (its build, and a window's upkeep without and with it, timed), then after VACUUM ANALYZE every README
// example query and every BI view (its first 100 rows and its full aggregate) is timed warm, and
// `status` and `reconcile` as processes (start-up included). A query on a view the last migration
// redefined is also timed on its previous definition, in turn with it (src/bench/legacy-bi.ts).
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { loadConfig } from "../config/index.js";
import { copyFrom } from "../db/copy.js";
import { inTransaction, openSession } from "../db/database.js";
import { addRollupZoneSql } from "../db/sql/rollups.js";
import { noJitSql } from "../db/sql/server.js";
import { runSnapshot } from "../job/run.js";
import { ensureRollupZone, refreshRollups } from "../sync/rollups.js";
import { asMicros, fromDate } from "../time.js";
import { type BenchServer, createScratchDatabase } from "./database.js";
import { changedRelations, previousDefinitions, previousSchema } from "./legacy-bi.js";
import { benchAccount } from "./phases.js";
import { median } from "./report.js";
import { type BenchSimulator, copyRowColumns } from "./sim-host.js";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/generect-sync.js");
const zone = "Asia/Kolkata";
/** A zone an operator lists in SYNC_ROLLUP_ZONES (registered as a run does): +10:30, and DST moves it by 30 minutes. */
const operatorZone = "Australia/Lord_Howe";
/** Windows re-refreshed to time the upkeep of one more registered zone. */
const upkeepWindows = 20;
/** Rows per rollup refresh: the sync's default SYNC_WINDOW_ROWS. */
const windowRows = 10_000;

/** Issue #15: every query under 50 ms on a 1M-row ledger, and no more than 1.5 times that at 5M (read as: beyond 1M). */
export function queryTargetMs(rows: number): number {
  return rows > 1_000_000 ? 75 : 50;
}

export interface BiTiming {
  label: string;
  /** Median of the warm runs, in milliseconds. */
  medianMs: number;
  maxMs: number;
  rows: number;
  targetMs: number;
  /** The same query on the definitions the BI migrations replaced (src/bench/legacy-bi.ts), timed in turn with this one. */
  previousMedianMs?: number;
}

export interface BiReport {
  rows: number;
  /** Years the ledger spans (--years). */
  years: number;
  /** Days between its first and last row, as held. */
  spanDays: number;
  loadAverage: number[];
  fillSeconds: number;
  rollupRows: number;
  rollupWindows: number;
  /** Mean wall time of one window's rollup refresh (about windowRows rows). */
  rollupMsPerWindow: number;
  /** Registering operatorZone on the built ledger (ensureRollupZone: its days from every bucket), once. */
  zoneBuildMs: number;
  /** Median ms a window's rollup refresh takes with the zones registered by then (UTC, the captures'), and with operatorZone too. */
  upkeepMsPerWindow: { without: number; with: number };
  /** The rollups' totals equal an aggregate of transactions (checked outside the timings). */
  verified: boolean;
  queries: BiTiming[];
  commands: BiTiming[];
}

/** What is timed: the README's examples, then each view's first 100 rows and its full aggregate. */
export const biQueries: [string, string][] = [
  [
    "README: last month per product",
    `SELECT balance_type, sum(credits_spent) FROM daily_spend_by_balance_type
    WHERE day >= date_trunc('month', now()) - interval '1 month' AND day < date_trunc('month', now()) GROUP BY 1 ORDER BY 2 DESC`,
  ],
  [
    "README: Generect's daily figures",
    `SELECT day, endpoint, credits, day_total FROM spent_credits_daily WHERE timezone = '${zone}' ORDER BY day DESC, endpoint LIMIT 20`,
  ],
  [
    "README: platform balance per day",
    "SELECT day, closing_balance FROM daily_closing_balance WHERE balance_type = 'platform' ORDER BY day",
  ],
  [
    "README: balance moves of the last week",
    `SELECT created_at, amount, after_balance, description FROM running_balance
    WHERE balance_type = 'platform' AND created_at > now() - interval '7 days' ORDER BY created_at`,
  ],
  [
    "README: balance at last month's end",
    `SELECT a.account, b.after_balance FROM ledger_accounts() a(account),
    ledger_balance_at(a.account, 'platform', date_trunc('month', now()) - interval '1 microsecond') b`,
  ],
  [
    "README: top-ups and refunds this year",
    "SELECT kind, count(*), sum(amount) FROM top_ups_and_refunds WHERE created_at >= date_trunc('year', now()) GROUP BY kind",
  ],
  [
    "README: days that disagree",
    "SELECT day, api_spent, ledger_spent, difference FROM credit_reconciliation_daily WHERE ledger_complete AND difference <> 0 ORDER BY day",
  ],
  ["spent_credits_daily LIMIT 100", "SELECT * FROM spent_credits_daily LIMIT 100"],
  ["credit_reconciliation_daily LIMIT 100", "SELECT * FROM credit_reconciliation_daily LIMIT 100"],
  ["daily_spend_by_balance_type LIMIT 100", "SELECT * FROM daily_spend_by_balance_type LIMIT 100"],
  ["running_balance LIMIT 100", "SELECT * FROM running_balance LIMIT 100"],
  ["daily_closing_balance LIMIT 100", "SELECT * FROM daily_closing_balance LIMIT 100"],
  ["top_ups_and_refunds LIMIT 100", "SELECT * FROM top_ups_and_refunds LIMIT 100"],
  ["daily_ledger_rollups LIMIT 100", "SELECT * FROM daily_ledger_rollups LIMIT 100"],
  ["ledger_rollups LIMIT 100", "SELECT * FROM ledger_rollups LIMIT 100"],
  ["spent_credits_daily aggregate", "SELECT timezone, count(*), sum(credits) FROM spent_credits_daily GROUP BY 1"],
  [
    "credit_reconciliation_daily aggregate",
    "SELECT count(*), sum(api_spent), sum(ledger_spent), count(*) FILTER (WHERE difference <> 0) FROM credit_reconciliation_daily",
  ],
  [
    "daily_spend_by_balance_type aggregate",
    "SELECT balance_type, sum(credits_spent), sum(charges) FROM daily_spend_by_balance_type GROUP BY 1",
  ],
  // running_balance and top_ups_and_refunds list rows: their aggregates read rows (the second through
  // a partial index), and the same figures from the daily rollups follow each.
  [
    "running_balance aggregate (rows, last 30 days)",
    "SELECT balance_type, count(*), sum(amount) FROM running_balance WHERE created_at > now() - interval '30 days' GROUP BY 1",
  ],
  [
    "the same from daily_ledger_rollups",
    `SELECT balance_type, sum(live_rows), sum(charges + top_ups + refunds) FROM daily_ledger_rollups
    WHERE day >= (now() - interval '30 days')::date GROUP BY 1`,
  ],
  [
    "daily_closing_balance aggregate",
    "SELECT balance_type, count(*), min(closing_balance), max(closing_balance) FROM daily_closing_balance GROUP BY 1",
  ],
  ["top_ups_and_refunds aggregate", "SELECT kind, count(*), sum(amount) FROM top_ups_and_refunds GROUP BY kind"],
  [
    "the same from daily_ledger_rollups",
    "SELECT sum(top_up_count), sum(top_ups), sum(refund_count), sum(refunds) FROM daily_ledger_rollups",
  ],
  [
    "daily_ledger_rollups aggregate",
    "SELECT status, sum(live_rows), sum(charges), sum(top_ups), sum(refunds) FROM daily_ledger_rollups GROUP BY 1",
  ],
  ["ledger_days (the captures' zone) aggregate", `SELECT status, count(*), sum(charges) FROM ledger_days('${zone}') GROUP BY 1`],
  ["ledger_days (a zone not registered) aggregate", "SELECT status, count(*), sum(charges) FROM ledger_days('Asia/Kathmandu') GROUP BY 1"],
  [
    "ledger_days (a SYNC_ROLLUP_ZONES zone) aggregate",
    `SELECT status, count(*), sum(charges) FROM ledger_days('${operatorZone}') GROUP BY 1`,
  ],
];

async function timed<T>(body: () => Promise<T>): Promise<[number, T]> {
  const began = performance.now();
  const value = await body();
  return [performance.now() - began, value];
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null }> {
  return new Promise((resolve) => {
    const began = performance.now();
    const child = execFile(bin, args, { env }, () => resolve({ ms: performance.now() - began, code: child.exitCode }));
  });
}

export async function runBi(
  options: { rows: number; years: number; runs: number },
  sim: BenchSimulator,
  server: BenchServer,
  say: (line: string) => void,
): Promise<BiReport> {
  const database = await createScratchDatabase(server, "bi");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-bench-bi-"));
  const { client, end } = await openSession(database.url);
  try {
    const seenAt = new Date().toISOString();
    const file = path.join(dir, "transactions.copy");
    await sim.writeCopyFile(file, benchAccount, [seenAt, seenAt]);
    const [copyMs] = await timed(() =>
      copyFrom(
        client,
        `COPY transactions (${copyRowColumns}, first_seen_at, last_seen_at) FROM STDIN`,
        createReadStream(file, { highWaterMark: 256 * 1024 }),
      ),
    );
    await fs.rm(dir, { recursive: true, force: true });
    say(`bi: ${sim.size} rows copied into transactions (${(copyMs / 1000).toFixed(1)} s)`);

    // Windows of about windowRows rows, as the sync's would be, each refreshed in its own transaction.
    const { rows: edges } = await client.query<{ us: string }>(
      `SELECT (extract(epoch FROM created_at) * 1000000)::bigint::text AS us FROM (
         SELECT created_at, row_number() OVER (ORDER BY created_at) AS n FROM transactions WHERE account = $1) t
       WHERE n % $2 = 1 ORDER BY n`,
      [benchAccount, windowRows],
    );
    const bounds = edges.map((e) => asMicros(Number(e.us)));
    bounds.push(fromDate(new Date()));
    let rollupMs = 0;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [ms] = await timed(async () => {
        await inTransaction(client, async (db) => {
          await db.query(noJitSql); // as the sync's windows do
          await refreshRollups(db, benchAccount, { from: bounds[i]!, to: bounds[i + 1]! });
        });
      });
      rollupMs += ms;
    }
    const windows = bounds.length - 1;
    say(`bi: rollups built in ${windows} windows (${(rollupMs / 1000).toFixed(1)} s, ${(rollupMs / windows).toFixed(1)} ms a window)`);
    await client.query(
      `INSERT INTO sync_state (account, stream, watermark, updated_at) VALUES ($1, 'transactions', now() - interval '1 minute', now())`,
      [benchAccount],
    );

    const env = {
      GENERECT_API_TOKEN: sim.token,
      GENERECT_API_URL: sim.url,
      DATABASE_URL: database.url,
      SYNC_ACCOUNT: benchAccount,
      SYNC_TIMEZONE: zone,
    };
    const [snapshotMs] = await timed(() =>
      runSnapshot({ config: loadConfig(env), databaseUrl: database.url, log: pino({ level: "silent" }) }),
    );
    say(`bi: spent credits captured in ${zone} (${(snapshotMs / 1000).toFixed(1)} s)`);

    // SYNC_ROLLUP_ZONES: what a run does for a new zone (once), then what each window pays for it,
    // the last windows refreshed again without and with the zone registered, in turn (the rows do
    // not change, so the zone's days stay exact while it is unregistered).
    const [zoneBuildMs] = await timed(() => inTransaction(client, (db) => ensureRollupZone(db, benchAccount, operatorZone)));
    const upkeep = { without: [] as number[], with: [] as number[] };
    const sample = bounds.slice(-upkeepWindows - 1);
    for (let round = 0; round < 6; round++) {
      const registered = round % 2 === 1;
      // Registered as a run does it (the zone's days are already built); unregistered, the bench's own undo.
      await client.query(registered ? addRollupZoneSql : "DELETE FROM ledger_rollup_zones WHERE account = $1 AND timezone = $2", [
        benchAccount,
        operatorZone,
      ]);
      const [ms] = await timed(async () => {
        for (let i = 0; i + 1 < sample.length; i++)
          await inTransaction(client, async (db) => {
            await db.query(noJitSql);
            await refreshRollups(db, benchAccount, { from: sample[i]!, to: sample[i + 1]! });
          });
      });
      upkeep[registered ? "with" : "without"].push(ms / (sample.length - 1));
    }
    const upkeepMsPerWindow = { without: median(upkeep.without), with: median(upkeep.with) };
    say(
      `bi: ${operatorZone} registered in ${zoneBuildMs.toFixed(0)} ms; a window's rollups ${upkeepMsPerWindow.without.toFixed(1)} ms without it, ${upkeepMsPerWindow.with.toFixed(1)} ms with it`,
    );
    await client.query("VACUUM ANALYZE");
    const { span_days } = (
      await client.query<{ span_days: number }>(
        "SELECT (extract(epoch FROM max(created_at) - min(created_at)) / 86400)::int AS span_days FROM transactions",
      )
    ).rows[0]!;
    const { rollup_rows } = (await client.query<{ rollup_rows: number }>("SELECT count(*)::int AS rollup_rows FROM ledger_rollups"))
      .rows[0]!;
    const { verified } = (
      await client.query<{ verified: boolean }>(
        `
      SELECT (SELECT (count(*), COALESCE(sum(amount) FILTER (WHERE amount < 0), 0)) FROM transactions WHERE deleted_at IS NULL)
           = (SELECT (sum(live_rows), sum(charges)) FROM ledger_daily_rollups WHERE timezone = 'UTC')
         AND (SELECT (count(*), COALESCE(sum(amount) FILTER (WHERE amount < 0), 0)) FROM transactions WHERE deleted_at IS NULL)
           = (SELECT (sum(live_rows), sum(charges)) FROM ledger_daily_rollups WHERE timezone = $1)
         AND (SELECT (count(*), COALESCE(sum(amount) FILTER (WHERE amount < 0), 0)) FROM transactions WHERE deleted_at IS NULL)
           = (SELECT (sum(live_rows), sum(charges)) FROM ledger_daily_rollups WHERE timezone = $2) AS verified`,
        [zone, operatorZone],
      )
    ).rows[0]!;
    say(`bi: rollups ${verified ? "equal" : "DIFFER FROM"} the aggregate of transactions`);

    // The previous definitions of the changed views, read by a second session through its search_path.
    for (const sql of previousDefinitions) await client.query(sql);
    const previous = (await openSession(database.url)).client;
    const queries: BiTiming[] = [];
    try {
      await previous.query(`SET search_path TO ${previousSchema}, public`);
      for (const [label, sql] of biQueries) {
        const compare = changedRelations.some((r) => sql.includes(r));
        const [, first] = await timed(() => client.query(sql)); // warm-up
        if (compare) await previous.query(sql);
        const times: number[] = [];
        const before: number[] = [];
        for (let i = 0; i < options.runs; i++) {
          times.push((await timed(() => client.query(sql)))[0]);
          if (compare) before.push((await timed(() => previous.query(sql)))[0]);
        }
        queries.push({
          label,
          medianMs: median(times),
          maxMs: Math.max(...times),
          rows: first.rowCount ?? 0,
          targetMs: queryTargetMs(options.rows),
          ...(compare ? { previousMedianMs: median(before) } : {}),
        });
        say(`bi: ${label}: ${median(times).toFixed(1)} ms${compare ? ` (previous definition ${median(before).toFixed(1)} ms)` : ""}`);
      }
    } finally {
      await previous.end();
    }
    const processEnv = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME, ...env };
    const commands: BiTiming[] = [];
    for (const args of [["status"], ["reconcile"]]) {
      const warm = await runCli(args, processEnv);
      const times: number[] = [];
      for (let i = 0; i < options.runs; i++) times.push((await runCli(args, processEnv)).ms);
      commands.push({
        label: `generect-sync ${args.join(" ")} (exit ${warm.code})`,
        medianMs: median(times),
        maxMs: Math.max(...times),
        rows: 0,
        targetMs: 1000,
      });
      say(`bi: ${args.join(" ")}: ${median(times).toFixed(0)} ms`);
    }
    return {
      rows: sim.size,
      years: options.years,
      spanDays: span_days,
      loadAverage: os.loadavg(),
      fillSeconds: copyMs / 1000,
      rollupRows: rollup_rows,
      rollupWindows: windows,
      rollupMsPerWindow: rollupMs / windows,
      zoneBuildMs,
      upkeepMsPerWindow,
      verified,
      queries,
      commands,
    };
  } finally {
    await end();
    await database.drop().catch(() => {});
  }
}

export function formatBi(report: BiReport): string {
  const lines = [
    `BI at ${report.rows} rows over ${report.spanDays} days (--years ${report.years}; load average ${report.loadAverage.map((l) => l.toFixed(2)).join(" ")}); ledger_rollups ${report.rollupRows} rows, ` +
      `built in ${report.rollupWindows} windows of ~${windowRows} rows, ${report.rollupMsPerWindow.toFixed(1)} ms a window; ` +
      `rollup totals ${report.verified ? "equal" : "DIFFER FROM"} transactions'`,
    `SYNC_ROLLUP_ZONES=${operatorZone}: registered in ${report.zoneBuildMs.toFixed(0)} ms; a window's rollups (median of 3 passes over the last ${upkeepWindows} windows each way, in turn) ` +
      `${report.upkeepMsPerWindow.without.toFixed(1)} ms without it, ${report.upkeepMsPerWindow.with.toFixed(1)} ms with it`,
    `${"query".padEnd(44)} ${"median ms".padStart(10)} ${"max ms".padStart(8)} ${"rows".padStart(7)} ${"target".padStart(7)} ${"previous".padStart(9)}  verdict`,
  ];
  for (const t of [...report.queries, ...report.commands]) {
    const before = t.previousMedianMs === undefined ? "" : t.previousMedianMs.toFixed(1);
    lines.push(
      `${t.label.padEnd(44)} ${t.medianMs.toFixed(1).padStart(10)} ${t.maxMs.toFixed(1).padStart(8)} ${String(t.rows).padStart(7)} ${String(t.targetMs).padStart(7)} ${before.padStart(9)}  ${t.medianMs <= t.targetMs ? "meets target" : "OVER TARGET"}`,
    );
  }
  lines.push(
    "previous: median ms of the same query on the view definitions that migrations 20261127070000_bi_plans, 20261129010000_rollup_views_per_account and 20261129020000_closing_balance_gaps_only replaced (src/bench/legacy-bi.ts), run in turn with it",
  );
  return lines.join("\n");
}
