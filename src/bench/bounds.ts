// What the machine's CPUs allow at zero latency, from CPU seconds measured in the same run: the
// sync's own cost per row (CpuBound) and the least work any sync with this client and schema does
// (WorkBound), each spread perfectly over every CPU. Pure arithmetic over the phase reports.
import type { BenchArgs } from "./args.js";
import { type BenchReport, type CpuBound, type PhaseReport, type WorkBound, round } from "./report.js";

/** `microsPerRow` of work spread perfectly over `cpus`: the rate no schedule of that work can pass, and its share of the ceiling. */
function spread(microsPerRow: number, cpus: number, ceiling: number): { rowsPerSec: number; vsCeiling: number } {
  const rowsPerSec = (cpus * 1e6) / microsPerRow;
  return { rowsPerSec: Math.round(rowsPerSec), vsCeiling: round(rowsPerSec / ceiling) };
}

/** A phase's CPU per row in µs, by process; null when one is unknown. An inline simulator's is already in node's. */
function microsPerRow(phase: PhaseReport | undefined, simulator: BenchArgs["simulator"]): { node: number; postgres: number; simulator: number } | null {
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
    microsPerRow: { node: round(micros.node, 1), postgres: round(micros.postgres, 1), simulator: round(micros.simulator, 1), total: round(total, 1) },
    ...spread(total, cpus, ceiling),
    forTargetMicrosPerRow: round((cpus * 1e6) / (0.7 * ceiling), 1),
  };
}

/** See WorkBound: the CPU per row of the API ceiling and of the two indexed COPY phases, added up. */
export function workBound(phases: BenchReport["phases"], simulator: BenchArgs["simulator"], ceiling: number, cpus: number): WorkBound | null {
  const parts = [phases.apiCeiling, phases.dbCopyIndexed, phases.dbCopyVersions].map((phase) => microsPerRow(phase, simulator));
  if (parts.some((micros) => micros === null)) return null;
  const [fetch, transactions, versions] = parts.map((micros) => sum(micros!)) as [number, number, number];
  const total = fetch + transactions + versions;
  return {
    microsPerRow: { fetch: round(fetch, 1), transactions: round(transactions, 1), versions: round(versions, 1), total: round(total, 1) },
    ...spread(total, cpus, ceiling),
  };
}
