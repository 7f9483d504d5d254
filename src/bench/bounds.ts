// What the machine's CPUs allow at zero latency, from CPU seconds measured in the same run: the
// sync's own cost per row (CpuBound) spread perfectly over every CPU, and this release's storage
// against the previous release's. Pure arithmetic over the phase reports.
//
// There is no "work bound" any more: it added the CPU of COPY into tables of the schema's shape as
// the least any sync could do, but the sync's set-based statement already costs Postgres about
// what COPY does (COPY is no floor), so the bound claimed a limit nothing proves.
import type { BenchArgs } from "./args.js";
import { type CpuBound, median, type PhaseReport, round, type StorageComparison } from "./report.js";

/** `microsPerRow` of work spread perfectly over `cpus`: the rate no schedule of that work can pass, and its share of the ceiling. */
function spread(microsPerRow: number, cpus: number, ceiling: number): { rowsPerSec: number; vsCeiling: number } {
  const rowsPerSec = (cpus * 1e6) / microsPerRow;
  return { rowsPerSec: Math.round(rowsPerSec), vsCeiling: round(rowsPerSec / ceiling) };
}

/** A phase's CPU per row in µs, by process; null when one is unknown. An inline simulator's is already in node's. */
function microsPerRow(
  phase: PhaseReport | undefined,
  simulator: BenchArgs["simulator"],
): { node: number; postgres: number; simulator: number } | null {
  if (!phase || phase.rows === 0) return null;
  const { node, postgres, simulator: sim } = phase.cpuSeconds;
  if (postgres === null || (simulator === "process" && sim === null)) return null;
  const perRow = (seconds: number) => (seconds * 1e6) / phase.rows;
  return { node: perRow(node), postgres: perRow(postgres), simulator: simulator === "process" ? perRow(sim!) : 0 };
}

const sum = (micros: { node: number; postgres: number; simulator: number }) => micros.node + micros.postgres + micros.simulator;

/** See CpuBound. */
export function cpuBound(sync: PhaseReport, simulator: BenchArgs["simulator"], ceiling: number, cpus: number): CpuBound | null {
  const micros = microsPerRow(sync, simulator);
  if (!micros) return null;
  const total = sum(micros);
  return {
    microsPerRow: {
      node: round(micros.node, 1),
      postgres: round(micros.postgres, 1),
      simulator: round(micros.simulator, 1),
      total: round(total, 1),
    },
    ...spread(total, cpus, ceiling),
    forTargetMicrosPerRow: round((cpus * 1e6) / (0.7 * ceiling), 1),
  };
}

/**
 * See StorageComparison. Bytes are measured after each backfill, outside its measurement; `more`
 * are the further pairs of --storage-rounds.
 */
export function storageComparison(
  current: PhaseReport | undefined,
  previous: PhaseReport | undefined,
  more: readonly { current: PhaseReport; previous: PhaseReport }[] = [],
): StorageComparison | null {
  if (!current || !previous || current.rows === 0 || previous.rows === 0) return null;
  const pg = (p: PhaseReport) => (p.cpuSeconds.postgres === null ? null : (p.cpuSeconds.postgres * 1e6) / p.rows);
  const bytes = (p: PhaseReport) => (typeof p.details.bytesOnDisk === "number" ? p.details.bytesOnDisk / p.rows : null);
  const [bNow, bBefore] = [bytes(current), bytes(previous)];
  const rounds: StorageComparison["rounds"] = [];
  for (const pair of [{ current, previous }, ...more]) {
    const [cNow, cBefore] = [pg(pair.current), pg(pair.previous)];
    if (cNow === null || cBefore === null) return null;
    rounds.push({ current: round(cNow, 1), previous: round(cBefore, 1), ratio: cBefore > 0 ? round(cNow / cBefore) : null });
  }
  if (bNow === null || bBefore === null) return null;
  const measured = rounds.flatMap((r) => (r.ratio === null ? [] : [r.ratio]));
  return {
    postgresMicrosPerRow: rounds[0]!,
    rounds,
    medianRatio: measured.length > 0 ? round(median(measured)) : null,
    bytesPerRow: { current: round(bNow, 0), previous: round(bBefore, 0), ratio: round(bNow / bBefore) },
  };
}
