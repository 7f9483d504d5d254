// Measuring one phase: wall time, this process's peak RSS (sampled every 50 ms), CPU seconds of
// this process, of the PostgreSQL backends serving the bench's own databases (when the server is
// local) and of the simulator child, and API requests.
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
  /** pids of the backends connected to the bench's own databases (pg_stat_activity). */
  ownBackends?: () => Promise<number[]>;
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
 * CPU seconds the bench's own databases cost PostgreSQL during a phase: every backend connected to
 * one of them (the sync's pool, the CLI child's, autovacuum workers on them), listed from
 * pg_stat_activity (datname -> pid) and read from /proc/<pid>/stat with the RSS sampler. Other
 * databases' backends on a shared server are not counted, nor are the server-wide processes
 * (checkpointer, WAL writer: the bench runs CHECKPOINT before each phase). A backend that exits
 * keeps its last sampled time, so a connection closed at the end of a phase is not lost. Only a
 * process whose parent is the postmaster counts (a remote server's pids mean nothing here).
 */
export class PostgresCpu {
  private readonly backends = new Map<number, { start: number; last: number }>();
  private pending: Promise<void> | undefined;

  private constructor(
    private readonly postmasterPid: number,
    private readonly list: () => Promise<number[]>,
  ) {}

  static async start(postmasterPid: number | undefined, list: (() => Promise<number[]>) | undefined): Promise<PostgresCpu | undefined> {
    if (postmasterPid === undefined || list === undefined || !processCpuSeconds(postmasterPid, false)) return undefined;
    const tracker = new PostgresCpu(postmasterPid, list);
    for (const pid of await list()) {
      const cpu = tracker.read(pid);
      if (cpu !== undefined) tracker.backends.set(pid, { start: cpu, last: cpu });
    }
    return tracker;
  }

  private read(pid: number): number | undefined {
    const cpu = processCpuSeconds(pid, false);
    return cpu && cpu.ppid === this.postmasterPid ? cpu.seconds : undefined;
  }

  /** One sample; a sample still running (the list is a query) makes this one a no-op. */
  sample(): Promise<void> {
    this.pending ??= this.list()
      .then(
        (listed) => {
          for (const pid of new Set([...listed, ...this.backends.keys()])) {
            const cpu = this.read(pid);
            if (cpu === undefined) continue;
            const known = this.backends.get(pid);
            if (known) known.last = cpu;
            else this.backends.set(pid, { start: 0, last: cpu }); // connected during the phase
          }
        },
        () => {},
      )
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  seconds(): number {
    let total = 0;
    for (const { start, last } of this.backends.values()) total += last - start;
    return total;
  }
}

/** Busy CPU seconds of the machine since boot, all cores (/proc/stat). */
export function machineCpuSeconds(): number | undefined {
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
  const pg = await PostgresCpu.start(context.postmasterPid(), context.ownBackends);
  const timer = setInterval(() => {
    sample();
    void pg?.sample();
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
  await pg?.sample();
  await pg?.sample(); // the first may have been a timer's, begun before the work ended
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
