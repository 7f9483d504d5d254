// `npm run bench -- --fleet`: many accounts through `run --all`, both in child processes (the
// simulator as `generect-sync simulate --accounts N`, the fleet as the CLI users run), so the
// fleet's peak RSS is its own. Requests per account are read from the database: a run's
// api_requests minus its spent-credit chunks (one request each, spent_credit_captures).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RequestSlotUsage } from "../api/request-slots.js";
import type { BenchArgs } from "./args.js";
import { onCleanup } from "./cleanup.js";
import { runCliSync } from "./cli-run.js";
import { type BenchServer, createScratchDatabase, ownBackendLister, withClient } from "./database.js";
import type { LoopReport } from "./loop-probe.js";
import { machineCpuSeconds, PostgresCpu, processCpuSeconds } from "./measure.js";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/generect-sync.js");
/** The API's documented page size (the simulator's max_limit). */
const pageSize = 100;

/** A `run --all` backfill as measuredFleetRun sees it: the fleet's rows, time and the CPU of every process involved. */
interface MeasuredPhase {
  rows: number;
  wallSeconds: number;
  rowsPerSec: number;
  cpuSeconds: number;
  cpu: FleetCpu;
  /** CPU per row by process (null where unknown), and the rate the machine's cores allow at that cost. */
  microsPerRow: { fleet: number; simulator: number | null; postgres: number | null; total: number | null };
  coresAllowRowsPerSec: number | null;
  /** The `run --all` process's event loop over the phase (loop-probe.ts); null when it wrote nothing. */
  eventLoop: LoopReport | null;
  /** How its request slots were used (the fleet's "fleet finished" log line); null when it logged none. */
  slots: RequestSlotUsage | null;
}

export interface FleetReport {
  accounts: number;
  rowsPerAccount: number;
  latencyMs: number;
  concurrency: number;
  dbConnections: number;
  backfill: MeasuredPhase & {
    peakRssMB: number;
    /** Requests per account (retries left out), and of them spent_credits and users/me. */
    requestsPerAccount: { mean: number; max: number; snapshots: number; checkpoint: number };
    /**
     * Pages of rows ÷ requests, per account: the share of the latency bound the request count
     * alone allows, since every request holds one of the SYNC_CONCURRENCY slots for the latency.
     */
    requestCapVsBound: number;
  };
  /** concurrency x page size / latency: the most any client could fetch. */
  latencyBoundRowsPerSec: number;
  backfillVsBound: number;
  /**
   * The same fleet backfill against a simulator at zero latency, in the same bench run: what this
   * machine's CPUs (shared by the fleet, the simulator and Postgres) allow for the workload. The
   * latency bound is only reachable here when this ceiling is above it.
   */
  ceiling: (MeasuredPhase & { vsBound: number; loadAverage: number }) | undefined;
  incremental: {
    wallSeconds: number;
    peakRssMB: number;
    transactionRequestsMax: number;
    transactionRequestsMean: number;
    snapshotRequestsMean: number;
    failed: number;
  };
  loadAverage: { start: number; end: number };
  targets: { target: string; actual: string; met: boolean }[];
}

async function startSimulator(
  args: BenchArgs,
  latencyMs: number,
  file: string,
  key: string,
  say: (line: string) => void,
): Promise<{ url: string; close(): Promise<void>; pid: number | undefined }> {
  const child = spawn(
    bin,
    [
      "simulate",
      "--port",
      "0",
      "--accounts",
      String(args.accounts),
      "--rows",
      String(args.rows),
      "--seed",
      String(args.seed),
      "--latency-ms",
      String(latencyMs),
      "--accounts-file",
      file,
      "--token",
      key,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` } },
  );
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const match = /GENERECT_API_URL=(\S+)[\s\S]*SYNC_ACCOUNTS_FILE=/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on("exit", (code) => reject(new Error(`simulate exited with ${code} before listening`)));
  });
  say(`simulator (child pid ${child.pid}) at ${url}: ${args.accounts} accounts of ${args.rows} rows, ${latencyMs} ms latency`);
  const close = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  onCleanup(close);
  return { url, close, pid: child.pid };
}

/** CPU seconds of one fleet phase, by process; null where it cannot be read here (a remote server). */
export interface FleetCpu {
  /** The `run --all` process. */
  fleet: number;
  simulator: number | null;
  /** The backends serving the bench's databases (the fleet's connections). */
  postgres: number | null;
  /** Every busy core of the machine: the rest is other workloads. */
  machine: number | null;
}

/**
 * Runs `run --all` and reads, besides its own CPU, the simulator child's and the Postgres
 * backends' over the same span (sampled every 50 ms, see PostgresCpu), and the machine's.
 */
async function measuredFleetRun(env: Record<string, string>, server: BenchServer, simPid: number | undefined) {
  const backends = await ownBackendLister(server);
  const loopDir = mkdtempSync(path.join(os.tmpdir(), "generect-bench-loop-"));
  const loopFile = path.join(loopDir, "loop.json");
  try {
    const pg = await PostgresCpu.start(server.postmasterPid, () => backends.list());
    const timer = setInterval(() => void pg?.sample(), 50);
    const simBefore = simPid === undefined ? undefined : processCpuSeconds(simPid, false)?.seconds;
    const machineBefore = machineCpuSeconds();
    const began = performance.now();
    const nodeOptions = [process.env.BENCH_CHILD_NODE_OPTIONS, ...loopProbeImports].filter(Boolean).join(" ");
    // At info, the fleet logs its request slots' usage as it finishes (a line per account besides).
    const run = await runCliSync({ ...env, LOG_LEVEL: "info", NODE_OPTIONS: nodeOptions, BENCH_LOOP_FILE: loopFile }, [
      "run",
      "--all",
    ]).finally(() => clearInterval(timer));
    const wallSeconds = (performance.now() - began) / 1000;
    const machineAfter = machineCpuSeconds();
    await pg?.sample();
    await pg?.sample(); // the first may have been a timer's, begun before the run ended
    const simAfter = simPid === undefined ? undefined : processCpuSeconds(simPid, false)?.seconds;
    const cpu: FleetCpu = {
      fleet: round(run.cpuSeconds),
      simulator: simBefore === undefined || simAfter === undefined ? null : round(simAfter - simBefore),
      postgres: pg ? round(pg.seconds()) : null,
      machine: machineBefore === undefined || machineAfter === undefined ? null : round(machineAfter - machineBefore),
    };
    return { run, wallSeconds, cpu, eventLoop: readLoopReport(loopFile), slots: slotUsage(run.stderr) };
  } finally {
    rmSync(loopDir, { recursive: true, force: true });
    await backends.close();
  }
}

/** The probe beside this module: built (.js), or the source when the bench itself runs under tsx (its tests), loaded the same way. */
const here = fileURLToPath(import.meta.url);
const loopProbeImports = here.endsWith(".ts")
  ? ["--import=tsx", `--import=${path.join(path.dirname(here), "loop-probe.ts")}`]
  : [`--import=${path.join(path.dirname(here), "loop-probe.js")}`];

/** The request slots' usage from the fleet's JSON log lines, if it logged it. */
function slotUsage(logs: string): RequestSlotUsage | null {
  for (const line of logs.split("\n").reverse()) {
    if (!line.includes('"requestSlots"')) continue;
    try {
      return (JSON.parse(line) as { requestSlots: RequestSlotUsage }).requestSlots;
    } catch {}
  }
  return null;
}

function readLoopReport(file: string): LoopReport | null {
  try {
    const report = JSON.parse(readFileSync(file, "utf8")) as LoopReport;
    return { utilization: round(report.utilization), delayP50Ms: round(report.delayP50Ms), delayP99Ms: round(report.delayP99Ms) };
  } catch {
    return null;
  }
}

/** µs of CPU per row, by process, and what the machine's cores allow at that cost (all of it on them, perfectly spread). */
function perRow(cpu: FleetCpu, rows: number) {
  const micros = (seconds: number | null) => (seconds === null ? null : round((seconds * 1e6) / rows));
  const fleet = micros(cpu.fleet)!;
  const simulator = micros(cpu.simulator);
  const postgres = micros(cpu.postgres);
  const total = simulator === null || postgres === null ? null : round(fleet + simulator + postgres);
  return {
    microsPerRow: { fleet, simulator, postgres, total },
    coresAllowRowsPerSec: total === null ? null : Math.round((os.cpus().length * 1e6) / total),
  };
}

export async function runFleetBench(args: BenchArgs, server: BenchServer, say: (line: string) => void): Promise<FleetReport> {
  const loadStart = os.loadavg()[0]!;
  const bound = (args.concurrency * pageSize) / (args.latencyMs / 1000);
  const { sim, db, env } = await fleetFixture(args, args.latencyMs, server, say);
  let ceiling: FleetReport["ceiling"];
  try {
    say(`fleet backfill: run --all, SYNC_CONCURRENCY=${args.concurrency}, SYNC_DB_CONNECTIONS=${args.dbConnections}`);
    const {
      run: backfill,
      wallSeconds: backfillSeconds,
      cpu: backfillCpu,
      eventLoop: backfillLoop,
      slots: backfillSlots,
    } = await measuredFleetRun(env, server, sim.pid);
    const rows = Number(
      (await withClient(db.url, (c) => c.query<{ n: string }>("SELECT count(*)::text AS n FROM transactions"))).rows[0]!.n,
    );
    say(`  ${rows} rows in ${backfillSeconds.toFixed(1)} s, peak RSS ${(backfill.peakRssBytes / 1048576).toFixed(0)} MB`);
    const backfillRuns = await requestsPerRun(db.url, 0);

    say("fleet incremental, nothing new: run --all");
    const before = Number(
      (await withClient(db.url, (c) => c.query<{ id: string }>("SELECT coalesce(max(id), 0)::text AS id FROM sync_runs"))).rows[0]!.id,
    );
    const began = performance.now();
    const incremental = await runCliSync(env, ["run", "--all"]);
    const incrementalSeconds = (performance.now() - began) / 1000;
    const perRun = await requestsPerRun(db.url, before);
    await sim.close();
    await db.drop();

    // After the measured phases, so it cannot slow them: its own simulator and database.
    if (args.latencyMs > 0) {
      say("fleet backfill ceiling: the same fleet at 0 ms latency");
      const zero = await fleetFixture(args, 0, server, say);
      try {
        const { wallSeconds, cpu, eventLoop, slots } = await measuredFleetRun(zero.env, server, zero.sim.pid);
        const ceilingRows = Number(
          (await withClient(zero.db.url, (c) => c.query<{ n: string }>("SELECT count(*)::text AS n FROM transactions"))).rows[0]!.n,
        );
        const ceilingRate = ceilingRows / wallSeconds;
        ceiling = {
          rows: ceilingRows,
          wallSeconds: round(wallSeconds),
          rowsPerSec: Math.round(ceilingRate),
          cpuSeconds: cpu.fleet,
          cpu,
          ...perRow(cpu, ceilingRows),
          eventLoop,
          slots,
          vsBound: round(ceilingRate / bound),
          loadAverage: round(os.loadavg()[0]!),
        };
        say(`  ${ceilingRows} rows in ${wallSeconds.toFixed(1)} s`);
      } finally {
        await zero.sim.close();
        await zero.db.drop();
      }
    }
    const rowsPerSec = rows / backfillSeconds;
    const report: FleetReport = {
      accounts: args.accounts,
      rowsPerAccount: args.rows,
      latencyMs: args.latencyMs,
      concurrency: args.concurrency,
      dbConnections: args.dbConnections,
      backfill: {
        rows,
        wallSeconds: round(backfillSeconds),
        rowsPerSec: Math.round(rowsPerSec),
        peakRssMB: round(backfill.peakRssBytes / 1048576),
        cpuSeconds: backfillCpu.fleet,
        cpu: backfillCpu,
        ...perRow(backfillCpu, rows),
        eventLoop: backfillLoop,
        slots: backfillSlots,
        requestsPerAccount: {
          mean: round(mean(backfillRuns.map((r) => r.requests))),
          max: Math.max(...backfillRuns.map((r) => r.requests)),
          snapshots: round(mean(backfillRuns.map((r) => r.snapshots))),
          checkpoint: round(mean(backfillRuns.map((r) => r.checkpoint))),
        },
        requestCapVsBound: round(Math.ceil(args.rows / pageSize) / mean(backfillRuns.map((r) => r.requests))),
      },
      latencyBoundRowsPerSec: Math.round(bound),
      backfillVsBound: round(rowsPerSec / bound),
      ceiling,
      incremental: {
        wallSeconds: round(incrementalSeconds),
        peakRssMB: round(incremental.peakRssBytes / 1048576),
        transactionRequestsMax: Math.max(...perRun.map((r) => r.transactions)),
        transactionRequestsMean: round(mean(perRun.map((r) => r.transactions))),
        snapshotRequestsMean: round(mean(perRun.map((r) => r.snapshots))),
        failed: perRun.filter((r) => r.status !== "succeeded").length,
      },
      loadAverage: { start: round(loadStart), end: round(os.loadavg()[0]!) },
      targets: [],
    };
    const peak = Math.max(report.backfill.peakRssMB, report.incremental.peakRssMB);
    report.targets = [
      {
        target: "fleet backfill >= 0.8 of the latency bound",
        actual: `${report.backfillVsBound} (${report.backfill.rowsPerSec} of ${report.latencyBoundRowsPerSec} rows/s)`,
        met: report.backfillVsBound >= 0.8,
      },
      ...(ceiling
        ? [
            {
              target: "this machine allows 0.8 of the latency bound (the zero-latency ceiling)",
              actual: `${ceiling.vsBound} (${ceiling.rowsPerSec} rows/s)`,
              met: ceiling.vsBound >= 0.8,
            },
          ]
        : []),
      {
        target: "incremental, nothing new: <= 3 transaction requests per account",
        actual: `max ${report.incremental.transactionRequestsMax}, mean ${report.incremental.transactionRequestsMean} (+ ${report.incremental.snapshotRequestsMean} snapshot)`,
        met: report.incremental.transactionRequestsMax <= 3,
      },
      { target: "peak RSS of the fleet process <= 250 MB", actual: `${peak} MB`, met: peak <= 250 },
    ];
    return report;
  } finally {
    await sim.close();
    await db.drop();
  }
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/**
 * The API requests of each run after run `after`, retries left out: spent_credits requests are one
 * per spent_credit_captures row, users/me one per balance checkpoint.
 */
async function requestsPerRun(url: string, after: number) {
  const { rows } = await withClient(url, (c) =>
    c.query<{ status: string; requests: number; snapshots: number; checkpoint: number }>(
      `SELECT r.status, r.api_requests - r.retries AS requests,
              (SELECT count(*) FROM spent_credit_captures c WHERE c.run_id = r.id)::int AS snapshots,
              (SELECT count(*) FROM balance_checkpoints b WHERE b.run_id = r.id)::int AS checkpoint
       FROM sync_runs r WHERE r.id > $1`,
      [after],
    ),
  );
  // As the incremental figure has always counted them: users/me among the transaction requests.
  return rows.map((r) => ({ ...r, transactions: r.requests - r.snapshots }));
}

/** A simulator child at `latencyMs`, a scratch database, and the environment `run --all` gets. */
async function fleetFixture(args: BenchArgs, latencyMs: number, server: BenchServer, say: (line: string) => void) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-fleet-"));
  const file = path.join(dir, "accounts.yaml");
  const key = randomBytes(12).toString("hex");
  const simulator = await startSimulator(args, latencyMs, file, key, say);
  // The accounts file's folder goes with the simulator that wrote it.
  const sim = {
    url: simulator.url,
    pid: simulator.pid,
    close: () => simulator.close().finally(() => rmSync(dir, { recursive: true, force: true })),
  };
  const db = await createScratchDatabase(server, latencyMs === 0 ? "fleet_ceiling" : "fleet");
  const tokens = Object.fromEntries(Array.from({ length: args.accounts }, (_, i) => [`ACCOUNT_${i + 1}_TOKEN`, `${key}-${i + 1}`]));
  const env = {
    ...tokens,
    DATABASE_URL: db.url,
    GENERECT_API_URL: sim.url,
    SYNC_ACCOUNTS_FILE: file,
    SYNC_CONCURRENCY: String(args.concurrency),
    SYNC_DB_CONNECTIONS: String(args.dbConnections),
  };
  return { sim, db, env };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function cpuLine(phase: MeasuredPhase): string {
  const { cpu, microsPerRow: us, eventLoop: loop } = phase;
  const seconds = (s: number | null) => (s === null ? "?" : `${s} s`);
  const micros = (m: number | null) => (m === null ? "?" : `${m} µs/row`);
  return (
    `run --all ${seconds(cpu.fleet)} (${micros(us.fleet)}), simulator ${seconds(cpu.simulator)} (${micros(us.simulator)}), ` +
    `Postgres ${seconds(cpu.postgres)} (${micros(us.postgres)}), machine ${seconds(cpu.machine)}; ` +
    `together ${micros(us.total)}: ${os.cpus().length} cores allow ${phase.coresAllowRowsPerSec ?? "?"} rows/s; ` +
    (loop
      ? `run --all's event loop busy ${Math.round(loop.utilization * 100)}% of the time, timers late by ${loop.delayP50Ms} ms (median), ${loop.delayP99Ms} ms (p99)`
      : "run --all's event loop not measured")
  );
}

function slotsLine(phase: MeasuredPhase, latencyMs: number): string {
  const s = phase.slots;
  if (!s) return "request slots not measured";
  return (
    `request slots busy ${Math.round(s.busyShare * 100)}% of the time (free with nothing queued ${Math.round(s.idleShare * 100)}%); ` +
    `a request waited ${Math.round(s.meanWaitMs)} ms for one and held it ${s.meanHoldMs.toFixed(1)} ms (latency ${latencyMs} ms)`
  );
}

export function formatFleetReport(r: FleetReport): string {
  return [
    `fleet: ${r.accounts} accounts x ${r.rowsPerAccount} rows, ${r.latencyMs} ms latency, SYNC_CONCURRENCY=${r.concurrency}, SYNC_DB_CONNECTIONS=${r.dbConnections}`,
    `  backfill     ${r.backfill.rows} rows in ${r.backfill.wallSeconds} s = ${r.backfill.rowsPerSec} rows/s (latency bound ${r.latencyBoundRowsPerSec}: ${r.backfillVsBound}), peak RSS ${r.backfill.peakRssMB} MB, CPU ${r.backfill.cpuSeconds} s`,
    `               CPU ${cpuLine(r.backfill)}`,
    `               ${slotsLine(r.backfill, r.latencyMs)}`,
    `               requests per account mean ${r.backfill.requestsPerAccount.mean} (max ${r.backfill.requestsPerAccount.max}; ${r.backfill.requestsPerAccount.snapshots} spent_credits, ${r.backfill.requestsPerAccount.checkpoint} users/me): the request count alone caps the backfill at ${r.backfill.requestCapVsBound} of the latency bound`,
    ...(r.ceiling
      ? [
          `  ceiling      ${r.ceiling.rows} rows in ${r.ceiling.wallSeconds} s = ${r.ceiling.rowsPerSec} rows/s at 0 ms latency (${r.ceiling.vsBound} of the latency bound), CPU ${r.ceiling.cpuSeconds} s, load average ${r.ceiling.loadAverage} after it`,
          `               CPU ${cpuLine(r.ceiling)}`,
          `               ${slotsLine(r.ceiling, 0)}`,
        ]
      : []),
    `  incremental  ${r.incremental.wallSeconds} s, transaction requests per account max ${r.incremental.transactionRequestsMax} mean ${r.incremental.transactionRequestsMean}, snapshot requests mean ${r.incremental.snapshotRequestsMean}, peak RSS ${r.incremental.peakRssMB} MB, ${r.incremental.failed} failed`,
    `  load average ${r.loadAverage.start} at start, ${r.loadAverage.end} at end (1 min, ${os.cpus().length} CPUs)`,
    ...r.targets.map((t) => `  ${t.met ? "MET " : "MISS"} ${t.target}: ${t.actual}`),
  ].join("\n");
}
