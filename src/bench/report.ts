// The benchmark's result: one object (printed as JSON with --json) and its table form.
import { formatDuration } from "../config/duration.js";
import { TRANSACTIONS_PATH } from "../simulator/index.js";
import type { Measurement } from "./measure.js";

export type PhaseKey =
  | "apiCeiling"
  | "dbCeiling"
  | "syncBackfillPrevious"
  | "syncBackfill"
  | "syncIncrementalNothingNew"
  | "syncIncrementalChanges"
  | "syncCli"
  | "naive";

export interface PhaseReport {
  label: string;
  rows: number;
  wallMs: number;
  rowsPerSec: number;
  startRssMB: number;
  peakRssMB: number;
  apiRequests: number;
  /** The same requests by path (transactions pages, spent_credits of the snapshot pass). */
  apiRequestsByPath: Record<string, number>;
  /**
   * CPU seconds during the phase: this process, the PostgreSQL server (when local), the simulator
   * child, and everything else on the machine (other processes' load: noise).
   */
  cpuSeconds: { node: number; postgres: number | null; simulator: number | null; other: number | null };
  details: Record<string, unknown>;
}

export interface TargetCheck {
  target: string;
  actual: string;
  met: boolean;
}

export interface SweepPoint {
  concurrency: number;
  apiRowsPerSec: number;
  syncRowsPerSec: number;
  latencyBoundRowsPerSec: number | null;
}

/**
 * The backfill's CPU per row (this process, Postgres and the simulator, measured during the phase)
 * spread perfectly over every CPU: no schedule of the same work runs faster. `forTargetMicrosPerRow`
 * is the cost per row at which the same CPUs would reach 0.7 × the ceiling.
 */
export interface CpuBound {
  microsPerRow: { node: number; postgres: number; simulator: number; total: number };
  rowsPerSec: number;
  vsCeiling: number;
  forTargetMicrosPerRow: number;
}

/**
 * The backfill's write path against the previous release's (storage v2, issue #15), measured side
 * by side in one run on the same ledger: Postgres CPU per row (the bench's own backends only) and
 * bytes on disk per row held (every table of the schema, indexes and TOAST included) right after.
 */
export interface StorageComparison {
  /** The run's own pair of backfills. */
  postgresMicrosPerRow: StoragePair;
  /** Every pair (the first is postgresMicrosPerRow), alternating which path went first. */
  rounds: StoragePair[];
  /** Over the pairs that have a ratio; null when none has. */
  medianRatio: number | null;
  bytesPerRow: { current: number; previous: number; ratio: number };
}

/**
 * One pair's Postgres CPU per row. The ratio is null when the previous path's measured nothing: a
 * backfill of a few hundred rows can take less than one clock tick of its backends.
 */
export interface StoragePair {
  current: number;
  previous: number;
  ratio: number | null;
}

/** A ratio as the report prints it. */
export function ratioText(ratio: number | null): string {
  return ratio === null ? "unmeasured (previous path under one clock tick)" : ratio.toFixed(2);
}

export interface BenchReport {
  settings: {
    rows: number;
    latencyMs: number;
    concurrency: number;
    pageSize: number;
    naiveRows: number;
    seed: number;
    simulator: "inline" | "process";
    /** Whether runSync ran its spent-credit snapshot pass after the transactions (the job's default). */
    snapshots: boolean;
    /** SYNC_WINDOW of the sync and the API ceiling. */
    windowMs: number;
    /** SYNC_WINDOW_ROWS of the sync and the API ceiling (0: fixed spans). */
    windowRows: number;
    database: string;
    node: string;
    cpus: number;
    /** The measured code: commit, and uncommitted changes in the measured paths. */
    code: string | null;
    /** 1-minute load average when the bench started and ended (other processes make results noisy). */
    loadAverage: { start: number; end: number };
  };
  phases: Partial<Record<PhaseKey, PhaseReport>>;
  ratios: {
    ceilingRowsPerSec: number;
    ceilingIs: "API" | "DB";
    syncVsCeiling: number;
    syncVsNaive: number;
    latencyBoundRowsPerSec: number | null;
    syncVsLatencyBound: number | null;
    /** What the backfill's own CPU cost per row allows on this machine's CPUs; null with latency, or when a process's CPU is unknown. */
    cpuBound: CpuBound | null;
    /** This release's backfill against the previous release's write path; null when Postgres CPU is unknown here or the phase was skipped. */
    storage: StorageComparison | null;
  };
  targets: TargetCheck[];
  verification: { ok: boolean; checks: { what: string; expected: number; actual: number }[] };
  sweep?: { chart: string; points: SweepPoint[] };
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
export const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The middle value, or the mean of the two middle values of an even count. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function phaseReport(label: string, rows: number, m: Measurement, details: Record<string, unknown> = {}): PhaseReport {
  return {
    label,
    rows,
    wallMs: round(m.wallMs, 1),
    rowsPerSec: m.wallMs > 0 ? Math.round((rows / m.wallMs) * 1000) : 0,
    startRssMB: mb(m.startRssBytes),
    peakRssMB: mb(m.peakRssBytes),
    apiRequests: m.apiRequests,
    apiRequestsByPath: m.apiRequestsByPath,
    cpuSeconds: {
      node: round(m.cpu.node, 2),
      postgres: m.cpu.postgres === undefined ? null : round(m.cpu.postgres, 2),
      simulator: m.cpu.simulator === undefined ? null : round(m.cpu.simulator, 2),
      other:
        m.cpu.machine === undefined
          ? null
          : round(Math.max(0, m.cpu.machine - m.cpu.node - (m.cpu.postgres ?? 0) - (m.cpu.simulator ?? 0)), 2),
    },
    details,
  };
}

export const phaseOrder: PhaseKey[] = [
  "apiCeiling",
  "dbCeiling",
  "syncBackfillPrevious",
  "syncBackfill",
  "syncIncrementalNothingNew",
  "syncIncrementalChanges",
  "syncCli",
  "naive",
];

const thousands = (n: number) => Math.round(n).toLocaleString("en-US");
const seconds = (ms: number) =>
  ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
const cpu = (s: number | null) => (s === null ? "-" : s.toFixed(1));

/** Total requests, and how many were not transactions pages (the snapshot pass's spent_credits). */
function requestsCell(p: PhaseReport): string {
  const other = Object.entries(p.apiRequestsByPath)
    .filter(([path]) => path !== TRANSACTIONS_PATH)
    .reduce((sum, [, n]) => sum + n, 0);
  return other > 0 ? `${thousands(p.apiRequests)} (${thousands(other)} not pages)` : thousands(p.apiRequests);
}

function table(headers: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function formatReport(report: BenchReport): string {
  const s = report.settings;
  const lines: string[] = [];
  lines.push(
    `generect-sync bench: ${thousands(s.rows)} rows, latency ${s.latencyMs} ms, concurrency ${s.concurrency}, page ${s.pageSize} rows, ` +
      `naive on ${thousands(s.naiveRows)} rows`,
  );
  lines.push(
    `sync runs: runSync as the job runs it, SYNC_WINDOW ${formatDuration(s.windowMs)}, SYNC_WINDOW_ROWS ${s.windowRows}, ` +
      `${s.snapshots ? "snapshot pass included" : "snapshot pass off (--no-snapshots)"}`,
  );
  lines.push(`code: ${s.code ?? "unknown"}`);
  lines.push(
    `simulator: ${s.simulator === "inline" ? "in this process (its CPU and memory count in node's)" : "child process"}; database: ${s.database}; node ${s.node}, ${s.cpus} CPUs, load ${s.loadAverage.start.toFixed(2)} → ${s.loadAverage.end.toFixed(2)}`,
  );
  lines.push("");
  const rows = phaseOrder.flatMap((key) => {
    const p = report.phases[key];
    if (!p) return [];
    return [
      [
        p.label,
        thousands(p.rows),
        seconds(p.wallMs),
        thousands(p.rowsPerSec),
        `${p.peakRssMB.toFixed(0)} MB`,
        p.startRssMB > 0 ? `${p.startRssMB.toFixed(0)} MB` : "(own process)",
        requestsCell(p),
        `${cpu(p.cpuSeconds.node)} / ${cpu(p.cpuSeconds.postgres)} / ${cpu(p.cpuSeconds.simulator)} / ${cpu(p.cpuSeconds.other)}`,
      ],
    ];
  });
  lines.push(
    table(
      ["phase", "rows", "wall", "rows/s", "peak RSS", "RSS at start", "API requests", "CPU s node / pg / sim / other"],
      rows,
      new Set([1, 2, 3, 4, 5, 6, 7]),
    ),
  );
  lines.push("");
  const r = report.ratios;
  lines.push(
    `ceiling: min(API ${thousands(report.phases.apiCeiling?.rowsPerSec ?? 0)}, DB ${thousands(report.phases.dbCeiling?.rowsPerSec ?? 0)}) = ${r.ceilingIs} ${thousands(r.ceilingRowsPerSec)} rows/s`,
  );
  lines.push(`sync ÷ ceiling = ${r.syncVsCeiling.toFixed(2)}    sync ÷ naive = ${r.syncVsNaive.toFixed(1)}`);
  if (r.cpuBound) {
    const c = r.cpuBound;
    lines.push(
      `CPU bound: the backfill used ${c.microsPerRow.total.toFixed(0)} µs of CPU per row (node ${c.microsPerRow.node.toFixed(0)} / pg ${c.microsPerRow.postgres.toFixed(0)} / sim ${c.microsPerRow.simulator.toFixed(0)}); ` +
        `at that cost ${s.cpus} CPUs cannot pass ${thousands(c.rowsPerSec)} rows/s = ${c.vsCeiling.toFixed(2)} × ceiling (0.7 × ceiling needs ≤ ${c.forTargetMicrosPerRow.toFixed(0)} µs per row)`,
    );
  }
  if (r.storage) {
    const { postgresMicrosPerRow: c, bytesPerRow: b } = r.storage;
    lines.push(
      `storage: the backfill cost Postgres ${c.current.toFixed(1)} µs of CPU per row, the previous release's write path ${c.previous.toFixed(1)} (× ${ratioText(c.ratio)}); ` +
        `on disk ${b.current.toFixed(0)} bytes per row in all of the schema's tables, previously ${b.previous.toFixed(0)} (× ${b.ratio.toFixed(2)})`,
    );
    if (r.storage.rounds.length > 1)
      lines.push(
        `storage rounds (Postgres µs per row, this / previous, alternating): ${r.storage.rounds.map((x) => `${x.current.toFixed(1)} / ${x.previous.toFixed(1)} = ${ratioText(x.ratio)}`).join("; ")}; median × ${ratioText(r.storage.medianRatio)}`,
      );
  }
  if (r.latencyBoundRowsPerSec !== null) {
    lines.push(
      `latency bound: ${s.concurrency} × ${s.pageSize} rows ÷ ${s.latencyMs} ms = ${thousands(r.latencyBoundRowsPerSec)} rows/s; sync ÷ bound = ${r.syncVsLatencyBound!.toFixed(2)}`,
    );
  }
  lines.push("");
  lines.push("targets:");
  for (const t of report.targets) lines.push(`  ${t.met ? "met   " : "MISSED"}  ${t.target}: ${t.actual}`);
  lines.push("");
  const v = report.verification;
  lines.push(
    `verification: ${v.ok ? "ok" : "FAILED"} (${v.checks.map((c) => `${c.what} ${thousands(c.actual)}${c.actual === c.expected ? "" : ` expected ${thousands(c.expected)}`}`).join("; ")})`,
  );
  if (report.sweep) {
    lines.push("");
    lines.push(`concurrency sweep (chart: ${report.sweep.chart}):`);
    lines.push(
      table(
        ["concurrency", "API ceiling rows/s", "sync backfill rows/s", "sync ÷ API", "latency bound rows/s"],
        report.sweep.points.map((p) => [
          String(p.concurrency),
          thousands(p.apiRowsPerSec),
          thousands(p.syncRowsPerSec),
          (p.syncRowsPerSec / p.apiRowsPerSec).toFixed(2),
          p.latencyBoundRowsPerSec === null ? "-" : thousands(p.latencyBoundRowsPerSec),
        ]),
        new Set([0, 1, 2, 3, 4]),
      ),
    );
  }
  return lines.join("\n");
}
