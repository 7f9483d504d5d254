// Preloaded into a child the bench runs (`node --import`, see fleet.ts): when the child exits it
// writes to BENCH_LOOP_FILE how busy its event loop was and how late its callbacks ran. A fleet
// below its latency bound has request slots free; this says whether the one JavaScript thread
// that fills them was the limit (a loop busy most of the time, and callbacks waiting for it).
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

export interface LoopReport {
  /** Share of the child's life its event loop spent running code (performance.eventLoopUtilization). */
  utilization: number;
  /** How late timers fired, in ms: median and 99th percentile (monitorEventLoopDelay, 10 ms resolution). */
  delayP50Ms: number;
  delayP99Ms: number;
}

export const resolutionMs = 10;

/**
 * monitorEventLoopDelay records the time between two runs of its 10 ms timer, not how late each ran:
 * an idle loop's median is 10.1 ms. The lateness is what exceeds the timer's own interval.
 */
export const lateness = (intervalNs: number) => Math.max(0, intervalNs / 1e6 - resolutionMs);

const file = process.env.BENCH_LOOP_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const start = performance.eventLoopUtilization();
  process.once("exit", () => {
    const report: LoopReport = {
      utilization: performance.eventLoopUtilization(start).utilization,
      delayP50Ms: lateness(delay.percentile(50)),
      delayP99Ms: lateness(delay.percentile(99)),
    };
    writeFileSync(file, JSON.stringify(report));
  });
}
