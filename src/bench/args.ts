// Command-line options of `npm run bench`, parsed with node:util and validated with messages that
// name the option and the value.
import { parseArgs } from "node:util";
import { parseDuration } from "../config/duration.js";
import { maxTargetRows } from "../config/window-limits.js";

export type SimulatorMode = "inline" | "process";

export interface BenchArgs {
  rows: number;
  latencyMs: number;
  concurrency: number;
  json: boolean;
  /** Where to write the concurrency sweep chart; undefined: no sweep. */
  chart: string | undefined;
  concurrencies: number[];
  /** Rows of the naive baseline (sequential pages, one Prisma upsert per row). */
  naiveRows: number;
  seed: number;
  /** Years the seeded ledger spans, ending now: with --rows, how dense it is. */
  years: number;
  /** inline: the simulator runs in this process (its CPU and memory count); process: in a child. */
  simulator: SimulatorMode;
  /** Let runSync run its spent-credit snapshot pass (the job's default); --no-snapshots: transactions only. */
  snapshots: boolean;
  /** SYNC_WINDOW for the sync runs and the API ceiling; undefined: the job's default. */
  window: string | undefined;
  /** SYNC_WINDOW_ROWS for the sync runs and the API ceiling; undefined: the job's default. */
  windowRows: number | undefined;
  /** Also backfill with the previous release's write path and schema, for the storage comparison (--no-previous: skip). */
  previousWritePath: boolean;
  /**
   * Backfills of each write path for the storage comparison, alternating (the first pair is the
   * run's own phases): the ratio moves by a fifth between runs on a shared machine, so the target
   * reads the median of the pairs' ratios.
   */
  storageRounds: number;
  /** Write a V8 CPU profile of the sync backfill phase to this file. */
  cpuProfile: string | undefined;
  /** Time the CLI's start-up (`--help`, `--version`, `status`) instead of the sync phases. */
  startup: boolean;
  /** Processes per start-up case. */
  startupRuns: number;
  /** Only the fleet phase: --accounts accounts of --rows rows each, synced by `run --all`. */
  fleet: boolean;
  accounts: number;
  /** SYNC_DB_CONNECTIONS of the fleet run. */
  dbConnections: number;
  /** Time the BI queries, status and reconcile on a ledger of --rows instead of the sync phases. */
  bi: boolean;
  help: boolean;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export const usage = `Usage: npm run bench -- [options]

Measures generect-sync against its ceilings, side by side, in one run: the API ceiling (every page of
the backfill fetched, nothing written), the DB ceiling (COPY of the same rows), the sync (full
backfill, the same backfill with the previous release's write path, incremental with nothing new, incremental with 1% new and 1% changed rows) and a naive
baseline (sequential pages, one Prisma upsert per row).

Options:
  --rows N               transactions in the simulator's ledger (default 20000)
  --latency-ms L         added to every transactions page by the simulator (default 0)
  --concurrency C        pages in flight, as SYNC_CONCURRENCY (default 4, 1-64)
  --window DURATION      SYNC_WINDOW of the sync and the API ceiling (default: the job's, 7d)
  --window-rows N        SYNC_WINDOW_ROWS of the sync and the API ceiling (default: the job's,
                         10000; 0: fixed SYNC_WINDOW spans)
  --naive-rows M         rows of the naive baseline (default min(N, 5000))
  --seed S               seed of the generated ledger (default 1)
  --years Y              years the generated ledger spans, ending now (default 3): more rows in
                         the same years is a busier account, more years a longer history
  --simulator MODE       inline (default: same process) or process (a child process, so this
                         process's RSS and CPU are the client's alone)
  --no-snapshots         sync runs skip the spent-credit snapshot pass (transactions only)
  --no-previous          skip the backfill with the previous release's write path and schema
                         (by default it runs just before this release's, for the storage
                         comparison: Postgres CPU and bytes on disk per row)
  --storage-rounds N     backfill with each write path N times, alternating, for the storage comparison
                         (its target reads the median of the N ratios; default 1)
  --json                 print one JSON object on stdout instead of the table
  --chart FILE.svg       also sweep --concurrencies (sync backfill and API ceiling) and draw rows/s
  --concurrencies LIST   comma-separated, for --chart (default 1,2,4,8)
  --cpu-profile FILE     write a V8 CPU profile of the sync backfill phase (and print its top
                         self-time functions on stderr)
  --startup              only time the built CLI's start-up: --help, --version, status --help,
                         and status on an empty database (median of --startup-runs processes each)
  --startup-runs N       processes per start-up case (default 15)
  --fleet                only the fleet phase: \`simulate --accounts\` in a child process (one
                         ledger of --rows rows per account), then \`run --all\` as a child: a
                         backfill and an incremental pass with nothing new, its peak RSS, rows/s
                         against the latency bound, requests per account; then the same
                         backfill at 0 ms latency (this machine's ceiling for the workload)
  --accounts N           accounts of the fleet phase (default 200)
  --db-connections N     SYNC_DB_CONNECTIONS of the fleet phase (default 12)
  --bi                   only time the BI side on a ledger of --rows: every README query and BI
                         view (first 100 rows, full aggregate), status and reconcile (5 warm runs)
  -h, --help             this text

Database: DATABASE_URL (a scratch database is created and dropped per measurement on that server),
else an embedded PostgreSQL in a temporary directory. Progress goes to stderr.`;

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function nonNegative(name: string, text: string, max: number): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0 || value > max) {
    throw new UsageError(`--${name} must be a number of milliseconds from 0 to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A duration as the job's variables take it (7d, 24h, 1h30m); returned as text for SYNC_WINDOW. */
function duration(name: string, text: string): string {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0)
    throw new UsageError(`--${name} must be a duration such as 7d, 30d or 12h, got ${JSON.stringify(text)}`);
  return text.trim();
}

export const maxRows = 5_000_000;

export function parseBenchArgs(argv: string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rows: { type: "string", default: "20000" },
        "latency-ms": { type: "string", default: "0" },
        concurrency: { type: "string", default: "4" },
        "naive-rows": { type: "string" },
        seed: { type: "string", default: "1" },
        years: { type: "string", default: "3" },
        simulator: { type: "string", default: "inline" },
        "no-snapshots": { type: "boolean", default: false },
        "no-previous": { type: "boolean", default: false },
        "storage-rounds": { type: "string", default: "1" },
        json: { type: "boolean", default: false },
        chart: { type: "string" },
        "cpu-profile": { type: "string" },
        window: { type: "string" },
        "window-rows": { type: "string" },
        concurrencies: { type: "string" },
        startup: { type: "boolean", default: false },
        "startup-runs": { type: "string", default: "15" },
        fleet: { type: "boolean", default: false },
        accounts: { type: "string", default: "200" },
        "db-connections": { type: "string", default: "12" },
        bi: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const rows = wholeNumber("rows", v.rows, 1, maxRows);
  const naiveRows = v["naive-rows"] === undefined ? Math.min(rows, 5000) : wholeNumber("naive-rows", v["naive-rows"], 1, rows);
  if (v.simulator !== "inline" && v.simulator !== "process") {
    throw new UsageError(`--simulator must be inline or process, got ${JSON.stringify(v.simulator)}`);
  }
  const storageRounds = wholeNumber("storage-rounds", v["storage-rounds"], 1, 20);
  if (storageRounds > 1 && v["no-previous"])
    throw new UsageError("--storage-rounds compares with the previous write path: drop --no-previous");
  if (v.chart !== undefined && !/\.svg$/i.test(v.chart)) {
    throw new UsageError(`--chart must name an .svg file, got ${JSON.stringify(v.chart)}`);
  }
  if (v.concurrencies !== undefined && v.chart === undefined) {
    throw new UsageError("--concurrencies is only used with --chart FILE.svg");
  }
  const concurrencies = (v.concurrencies ?? "1,2,4,8").split(",").map((part) => wholeNumber("concurrencies", part, 1, 64));
  if (new Set(concurrencies).size !== concurrencies.length) {
    throw new UsageError(`--concurrencies lists a value twice: ${JSON.stringify(v.concurrencies)}`);
  }
  return {
    rows,
    latencyMs: nonNegative("latency-ms", v["latency-ms"], 60_000),
    concurrency: wholeNumber("concurrency", v.concurrency, 1, 64),
    json: v.json,
    chart: v.chart,
    concurrencies: concurrencies.sort((a, b) => a - b),
    naiveRows,
    seed: wholeNumber("seed", v.seed, 0, 2 ** 32 - 1),
    years: wholeNumber("years", v.years, 1, 50),
    simulator: v.simulator,
    snapshots: !v["no-snapshots"],
    previousWritePath: !v["no-previous"],
    storageRounds,
    cpuProfile: v["cpu-profile"],
    window: v.window === undefined ? undefined : duration("window", v.window),
    windowRows: v["window-rows"] === undefined ? undefined : wholeNumber("window-rows", v["window-rows"], 0, maxTargetRows),
    startup: v.startup,
    startupRuns: wholeNumber("startup-runs", v["startup-runs"], 1, 1000),
    fleet: v.fleet,
    accounts: wholeNumber("accounts", v.accounts, 1, 10_000),
    dbConnections: wholeNumber("db-connections", v["db-connections"], 2, 1000),
    bi: v.bi,
    help: v.help,
  };
}
