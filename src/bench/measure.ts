// Measuring one phase: wall time, this process's peak RSS (sampled every 50 ms), CPU seconds of
// this process, of the PostgreSQL server (when local) and of the simulator child, and API requests.
import { readFileSync } from "node:fs";

export interface Measurement {
  wallMs: number;
  /** RSS when the phase started and its highest sample during the phase. */
  startRssBytes: number;
  peakRssBytes: number;
  /** CPU seconds (user + system) spent during the phase. */
  cpu: {
    node: number;
    postgres: number | undefined;
    simulator: number | undefined;
    /** Busy CPU seconds of the whole machine (all cores): the rest is other processes' load. */
    machine: number | undefined;
  };
  apiRequests: number;
  /** The same requests by path. */
  apiRequestsByPath: Record<string, number>;
}

export interface MeasureContext {
  /** Cumulative API requests the simulator has answered, by path. */
  requests(): Promise<Record<string, number>>;
  /** pid of a simulator child process, when it runs in one. */
  simulatorPid(): number | undefined;
  /** pid of the database server's postmaster, when it runs on this machine. */
  postmasterPid(): number | undefined;
}

const sampleEveryMs = 50;
const ticksPerSecond = 100; // USER_HZ on Linux

/** utime + stime (+ cutime + cstime: reaped children) of one process, in seconds; undefined when unreadable. */
export function processCpuSeconds(pid: number | string, withChildren = true): { comm: string; ppid: number; seconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // fields[0] is field 3 (state): utime..cstime are fields 14..17.
    const ticks = (withChildren ? [11, 12, 13, 14] : [11, 12]).reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return { comm, ppid: Number(fields[1]), seconds: ticks / ticksPerSecond };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of one PostgreSQL server during a phase: the postmaster's own time plus every child's
 * (backends, checkpointer, WAL writer, autovacuum), children found through
 * /proc/<pid>/task/<pid>/children and sampled with the RSS sampler. A backend that exits keeps its
 * last sampled time, so a connection closed at the end of a phase is not lost (the postmaster's
 * cutime would only show it once reaped, racing the end of the phase). Undefined without /proc.
 */
export class PostgresCpu {
  private readonly children = new Map<number, { start: number; last: number }>();
  private readonly ownStart: number;
  private ownLast: number;

  private constructor(private readonly postmasterPid: number, own: number) {
    this.ownStart = own;
    this.ownLast = own;
  }

  static start(postmasterPid: number | undefined): PostgresCpu | undefined {
    if (postmasterPid === undefined) return undefined;
    const own = processCpuSeconds(postmasterPid, false);
    if (!own) return undefined;
    const tracker = new PostgresCpu(postmasterPid, own.seconds);
    for (const pid of tracker.childPids()) {
      const cpu = processCpuSeconds(pid, false);
      if (cpu) tracker.children.set(pid, { start: cpu.seconds, last: cpu.seconds });
    }
    return tracker;
  }

  private childPids(): number[] {
    try {
      return readFileSync(`/proc/${this.postmasterPid}/task/${this.postmasterPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  sample(): void {
    const own = processCpuSeconds(this.postmasterPid, false);
    if (own) this.ownLast = own.seconds;
    for (const pid of this.childPids()) {
      const cpu = processCpuSeconds(pid, false);
      if (!cpu) continue;
      const known = this.children.get(pid);
      if (known) known.last = cpu.seconds;
      else this.children.set(pid, { start: 0, last: cpu.seconds }); // born during the phase
    }
  }

  seconds(): number {
    let total = this.ownLast - this.ownStart;
    for (const { start, last } of this.children.values()) total += last - start;
    return total;
  }
}

/** Busy CPU seconds of the machine since boot, all cores (/proc/stat). */
function machineCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return busy / ticksPerSecond;
  } catch {
    return undefined;
  }
}

function nodeCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Runs `work` and measures it. The RSS sampler is a timer, so a busy event loop samples less often. */
export async function measure<T>(context: MeasureContext, work: () => Promise<T>): Promise<{ result: T; measurement: Measurement }> {
  const simPid = context.simulatorPid();
  const requestsBefore = await context.requests();
  const startRssBytes = process.memoryUsage.rss();
  let peakRssBytes = startRssBytes;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRssBytes) peakRssBytes = rss;
  };
  const pg = PostgresCpu.start(context.postmasterPid());
  const timer = setInterval(() => {
    sample();
    pg?.sample();
  }, sampleEveryMs);
  timer.unref();
  const simBefore = simPid === undefined ? undefined : processCpuSeconds(simPid)?.seconds;
  const machineBefore = machineCpuSeconds();
  const nodeBefore = nodeCpuSeconds();
  const began = performance.now();
  let result: T;
  try {
    result = await work();
  } finally {
    clearInterval(timer);
    sample();
  }
  const wallMs = performance.now() - began;
  const node = nodeCpuSeconds() - nodeBefore;
  const machineAfter = machineCpuSeconds();
  pg?.sample();
  const simAfter = simPid === undefined ? undefined : processCpuSeconds(simPid)?.seconds;
  const requestsAfter = await context.requests();
  const byPath: Record<string, number> = {};
  for (const [key, n] of Object.entries(requestsAfter)) {
    const delta = n - (requestsBefore[key] ?? 0);
    if (delta > 0) byPath[key] = delta;
  }
  return {
    result,
    measurement: {
      wallMs,
      startRssBytes,
      peakRssBytes,
      cpu: {
        node,
        postgres: pg?.seconds(),
        simulator: simBefore === undefined || simAfter === undefined ? undefined : simAfter - simBefore,
        machine: machineBefore === undefined || machineAfter === undefined ? undefined : machineAfter - machineBefore,
      },
      apiRequests: Object.values(byPath).reduce((a, b) => a + b, 0),
      apiRequestsByPath: byPath,
    },
  };
}
