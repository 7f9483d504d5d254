// Smoke test of `npm run bench`: the real command, from source, in a child process, on a tiny ledger
// against the test database server (a scratch database per measurement, dropped afterwards).

import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { biQueries, queryTargetMs } from "../../src/bench/bi.js";
import { type CliResult, repoRoot } from "../helpers/cli.js";
import { adminUrl, query } from "../helpers/database.js";

const entry = path.join(repoRoot, "src/bench/index.ts");

function runBench(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult & { pid: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! })));
}

const phases = [
  "apiCeiling",
  "dbCeiling",
  "syncBackfillPrevious",
  "syncBackfill",
  "syncIncrementalNothingNew",
  "syncIncrementalChanges",
  "syncCli",
  "naive",
] as const;

describe("npm run bench", () => {
  test("measures every phase side by side on 500 rows and reports them as JSON", async () => {
    const rows = 500;
    const result = await runBench(["--rows", String(rows), "--naive-rows", "300", "--storage-rounds", "3", "--json"], {
      DATABASE_URL: adminUrl(),
    });
    if (result.code !== 0) throw new Error(`bench exited with ${result.code}:\n${result.stderr}`);
    expect(result.stderr).toMatch(/API ceiling/); // progress goes to stderr, JSON alone to stdout
    const report = JSON.parse(result.stdout);

    for (const key of phases) {
      const phase = report.phases[key];
      expect(phase).toBeDefined();
      expect(phase.wallMs).toBeGreaterThan(0);
      expect(phase.peakRssMB).toBeGreaterThanOrEqual(phase.startRssMB);
      expect(phase.peakRssMB).toBeGreaterThan(0);
      if (key !== "syncIncrementalNothingNew") expect(phase.rowsPerSec).toBeGreaterThan(0);
      if (!key.startsWith("db")) expect(phase.apiRequests).toBeGreaterThan(0);
    }
    expect(report.phases.apiCeiling.rows).toBe(rows);
    expect(report.phases.dbCeiling.rows).toBe(rows);
    expect(report.phases.syncBackfillPrevious).toMatchObject({ rows, details: { inserted: rows } });
    expect(report.phases.syncBackfill.rows).toBe(rows);
    expect(report.phases.syncBackfill.details.inserted).toBe(rows);
    expect(report.phases.syncIncrementalNothingNew.details).toMatchObject({ inserted: 0, updated: 0 });
    expect(report.phases.syncIncrementalChanges.details).toMatchObject({ added: 5, changed: 5, inserted: 5, updated: 5 });
    expect(report.phases.naive.rows).toBe(300);
    // The CLI's own process: its peak is the kernel's high-water mark of that child, not this process's.
    expect(report.phases.syncCli).toMatchObject({ rows, startRssMB: 0, details: { process: "child" } });
    expect(report.phases.syncCli.peakRssMB).toBeGreaterThan(30);
    expect(report.targets).toEqual(
      expect.arrayContaining([expect.objectContaining({ target: expect.stringContaining("peak RSS of `generect-sync run`") })]),
    );

    // The sync's final table held every row: the bench checks the counts in its scratch database.
    expect(report.verification.ok).toBe(true);
    expect(report.verification.checks).toEqual(
      expect.arrayContaining([
        { what: "backfill rows held", expected: rows, actual: rows },
        { what: "rows held after changes", expected: rows + 5, actual: rows + 5 },
        { what: "versions held after changes", expected: rows + 10, actual: rows + 10 },
        { what: "superseded versions in transaction_history", expected: 5, actual: 5 },
        { what: "previous write path rows held", expected: rows, actual: rows },
        { what: "storage pair 2: current write path rows held", expected: rows + 5, actual: rows + 5 },
        { what: "storage pair 2: previous write path rows held", expected: rows + 5, actual: rows + 5 },
        { what: "storage pair 3: previous write path rows held", expected: rows + 5, actual: rows + 5 },
        { what: "storage pair 3: current write path rows held", expected: rows + 5, actual: rows + 5 },
      ]),
    );
    expect(report.ratios.syncVsCeiling).toBeGreaterThan(0);
    expect(report.ratios.syncVsNaive).toBeGreaterThan(0);
    expect(report.ratios.latencyBoundRowsPerSec).toBeNull();
    // The CPU bound is the backfill's measured CPU per row over the machine's CPUs (inline simulator: in node's).
    const sync = report.phases.syncBackfill;
    if (sync.cpuSeconds.postgres === null) {
      expect(report.ratios.cpuBound).toBeNull();
    } else {
      const perRow = ((sync.cpuSeconds.node + sync.cpuSeconds.postgres) * 1e6) / rows;
      expect(report.ratios.cpuBound.microsPerRow.total).toBeCloseTo(perRow, -1);
      expect(report.ratios.cpuBound.rowsPerSec).toBeCloseTo((report.settings.cpus * 1e6) / report.ratios.cpuBound.microsPerRow.total, -2);
      expect(report.ratios.cpuBound.vsCeiling).toBeCloseTo(report.ratios.cpuBound.rowsPerSec / report.ratios.ceilingRowsPerSec, 2);
    }
    // The storage comparison (its arithmetic: test/unit/bench-bounds): both backfills' bytes on disk, measured.
    const previous = report.phases.syncBackfillPrevious;
    expect(previous.details.bytesOnDisk).toBeGreaterThan(0);
    expect(sync.details.bytesOnDisk).toBeGreaterThan(0);
    // Every table counts, not the ledger alone: what this schema keeps besides it (rollups, proof chain) too.
    const sum = (byTable: Record<string, number>) => Object.values(byTable).reduce((a, b) => a + b, 0);
    expect(sum(sync.details.bytesOnDiskByTable)).toBe(sync.details.bytesOnDisk);
    expect(sum(previous.details.bytesOnDiskByTable)).toBe(previous.details.bytesOnDisk);
    for (const table of ["transactions", "ledger_rollups", "ledger_daily_rollups", "proof_chain"])
      expect(sync.details.bytesOnDiskByTable[table]).toBeGreaterThan(8192);
    expect(previous.details.bytesOnDiskByTable.transaction_versions).toBeGreaterThan(8192);
    expect(previous.details.bytesOnDiskByTable.ledger_rollups).toBeUndefined();
    if (sync.cpuSeconds.postgres === null) {
      expect(report.ratios.storage).toBeNull();
    } else {
      expect(report.ratios.storage.bytesPerRow.ratio).toBeCloseTo(sync.details.bytesOnDisk / previous.details.bytesOnDisk, 2);
      // Two more pairs, each backfill into its own database, on the ledger as the changes left it.
      const { rounds, medianRatio } = report.ratios.storage;
      expect(rounds).toHaveLength(3);
      expect(rounds[0]).toEqual(report.ratios.storage.postgresMicrosPerRow);
      // A pair of 500 rows may measure no Postgres CPU for the previous path (under one clock tick): no ratio, left out of the median.
      const measured = rounds
        .flatMap((r: { ratio: number | null }) => (r.ratio === null ? [] : [r.ratio]))
        .sort((a: number, b: number) => a - b);
      const middle = Math.floor(measured.length / 2);
      expect(medianRatio).toBe(
        measured.length === 0
          ? null
          : measured.length % 2
            ? measured[middle]
            : Math.round(((measured[middle - 1] + measured[middle]) / 2) * 1000) / 1000,
      );
      expect(report.targets).toEqual(
        expect.arrayContaining([expect.objectContaining({ target: expect.stringContaining("median of 3 alternating pairs") })]),
      );
      expect(report.targets).toEqual(
        expect.arrayContaining([expect.objectContaining({ target: expect.stringContaining("bytes on disk per row") })]),
      );
    }
    expect(report.ratios.workBound).toBeUndefined();
    expect(report.targets.length).toBeGreaterThan(0);

    // Every scratch database (bench_<label>_<pid>_<random>) was dropped.
    const left = await query<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [
      `bench\\_%\\_${result.pid}\\_%`,
    ]);
    expect(left).toEqual([]);
  }, 60_000);

  test("--startup times the built CLI's start-up, per command, against an empty scratch database", async () => {
    const result = await runBench(["--startup", "--startup-runs", "3", "--json"], { DATABASE_URL: adminUrl() });
    if (result.code !== 0) throw new Error(`bench exited with ${result.code}:\n${result.stderr}`);
    const { startup } = JSON.parse(result.stdout) as {
      startup: {
        label: string;
        medianSeconds?: number;
        minSeconds?: number;
        maxSeconds?: number;
        targetSeconds: number;
        exitCode: number;
      }[];
    };
    expect(startup.map((c) => c.label)).toEqual(["--help", "--version", "status --help", "status (empty database)"]);
    for (const c of startup.filter((c) => c.label !== "--version")) {
      expect(c.exitCode).toBe(0); // status answered on the empty database
      expect(c.minSeconds!).toBeGreaterThan(0);
      expect(c.minSeconds!).toBeLessThanOrEqual(c.medianSeconds!);
      expect(c.medianSeconds!).toBeLessThanOrEqual(c.maxSeconds!);
    }
    expect(startup.find((c) => c.label.startsWith("status ("))!.targetSeconds).toBe(0.5);
    const left = await query<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [
      `bench\\_startup\\_${result.pid}\\_%`,
    ]);
    expect(left).toEqual([]);
  }, 60_000);

  test("--fleet: simulate --accounts and run --all as children, every account's rows, requests per account of a pass with nothing new, the zero-latency ceiling", async () => {
    const result = await runBench(
      ["--fleet", "--accounts", "4", "--rows", "150", "--latency-ms", "5", "--concurrency", "4", "--db-connections", "4", "--json"],
      { DATABASE_URL: adminUrl() },
    );
    if (result.code !== 0) throw new Error(`bench exited with ${result.code}:\n${result.stderr}`);
    const { fleet } = JSON.parse(result.stdout) as {
      fleet: {
        backfill: {
          rows: number;
          peakRssMB: number;
          requestsPerAccount: { mean: number; max: number };
          eventLoop: { utilization: number; delayP50Ms: number; delayP99Ms: number } | null;
        };
        ceiling: { rows: number; rowsPerSec: number; vsBound: number; eventLoop: unknown };
        incremental: { transactionRequestsMax: number; snapshotRequestsMean: number; failed: number };
        latencyBoundRowsPerSec: number;
        targets: unknown[];
      };
    };
    expect(fleet.backfill.rows).toBe(4 * 150);
    expect(fleet.backfill.peakRssMB).toBeGreaterThan(30);
    // A first run of 150 rows: its 2 pages (the first answering its first request), the closing
    // request, users/me and one spent_credits; no search for the oldest row.
    expect(fleet.backfill.requestsPerAccount).toMatchObject({ mean: 5, max: 5 });
    // The probe preloaded into run --all reported its event loop, for both measured phases.
    expect(fleet.backfill.eventLoop!.utilization).toBeGreaterThan(0);
    expect(fleet.backfill.eventLoop!.utilization).toBeLessThanOrEqual(1);
    expect(fleet.backfill.eventLoop!.delayP99Ms).toBeGreaterThanOrEqual(fleet.backfill.eventLoop!.delayP50Ms);
    expect(fleet.ceiling.eventLoop).not.toBeNull();
    expect(fleet.incremental.failed).toBe(0);
    expect(fleet.incremental.transactionRequestsMax).toBeGreaterThanOrEqual(1);
    expect(fleet.incremental.transactionRequestsMax).toBeLessThanOrEqual(3);
    expect(fleet.latencyBoundRowsPerSec).toBe((4 * 100) / 0.005);
    // The ceiling phase synced the same fleet again, into its own database, at 0 ms latency.
    expect(fleet.ceiling.rows).toBe(4 * 150);
    expect(fleet.ceiling.vsBound).toBeCloseTo(fleet.ceiling.rowsPerSec / fleet.latencyBoundRowsPerSec, 1);
    expect(fleet.targets).toHaveLength(4);
    const left = await query<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname LIKE $2", [
      `bench\\_fleet\\_${result.pid}\\_%`,
      `bench\\_fleet\\_ceiling\\_${result.pid}\\_%`,
    ]);
    expect(left).toEqual([]);
  }, 120_000);

  test("--bi times every README query and BI view, status and reconcile, on rollups that equal the ledger", async () => {
    const result = await runBench(["--bi", "--rows", "500", "--years", "6", "--json"], { DATABASE_URL: adminUrl() });
    if (result.code !== 0) throw new Error(`bench exited with ${result.code}:\n${result.stderr}`);
    const { bi } = JSON.parse(result.stdout) as {
      bi: {
        rows: number;
        years: number;
        spanDays: number;
        verified: boolean;
        rollupRows: number;
        zoneBuildMs: number;
        upkeepMsPerWindow: { without: number; with: number };
        queries: { label: string; medianMs: number; rows: number; targetMs: number; previousMedianMs?: number }[];
        commands: { label: string; medianMs: number }[];
      };
    };
    expect(bi.rows).toBe(500);
    expect(bi.years).toBe(6);
    expect(bi.spanDays).toBeGreaterThan(5 * 365); // the default 3 years would hold under 1,100 days
    expect(bi.verified).toBe(true);
    expect(bi.rollupRows).toBeGreaterThan(0);
    expect(bi.zoneBuildMs).toBeGreaterThan(0);
    expect(bi.upkeepMsPerWindow.without).toBeGreaterThan(0);
    expect(bi.upkeepMsPerWindow.with).toBeGreaterThan(0);
    expect(bi.queries.map((q) => q.label)).toEqual(biQueries.map(([label]) => label));
    for (const q of bi.queries) expect(q.medianMs).toBeGreaterThan(0);
    // The targets: 50 ms up to 1M rows, 1.5 times that beyond.
    expect(new Set(bi.queries.map((q) => q.targetMs))).toEqual(new Set([50]));
    expect([queryTargetMs(1_000_000), queryTargetMs(5_000_000)]).toEqual([50, 75]);
    // Each view a migration redefined is also timed on its previous definition.
    const compared = bi.queries.filter((q) => q.previousMedianMs !== undefined).map((q) => q.label);
    expect(compared).toEqual(
      expect.arrayContaining(["daily_ledger_rollups aggregate", "daily_spend_by_balance_type aggregate", "README: last month per product"]),
    );
    expect(bi.queries.find((q) => q.label === "daily_closing_balance LIMIT 100")!.rows).toBe(100);
    expect(bi.commands.map((c) => c.label)).toEqual(["generect-sync status (exit 0)", "generect-sync reconcile (exit 0)"]);
    const left = await query<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [
      `bench\\_bi\\_${result.pid}\\_%`,
    ]);
    expect(left).toEqual([]);
  }, 120_000);

  test("rejects a bad option with exit code 2 and a message naming it", async () => {
    const result = await runBench(["--rows", "many"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--rows must be a whole number from 1 to 5000000, got "many"');
    expect(result.stdout).toBe("");
    const rounds = await runBench(["--storage-rounds", "3", "--no-previous"]);
    expect(rounds.code).toBe(2);
    expect(rounds.stderr).toContain("--storage-rounds compares with the previous write path: drop --no-previous");
  });
});
