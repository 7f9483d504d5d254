import { monitorEventLoopDelay } from "node:perf_hooks";
import { describe, expect, test } from "@jest/globals";
import { lateness, resolutionMs } from "../../src/bench/loop-probe.js";

describe("the bench's event-loop probe", () => {
  test("reports how late timers ran, not the probe timer's own interval", async () => {
    const delay = monitorEventLoopDelay({ resolution: resolutionMs });
    delay.enable();
    await new Promise((resolve) => setTimeout(resolve, 300)); // an idle loop
    delay.disable();
    // What the histogram holds is the time between two runs of its timer: at least its interval.
    expect(delay.percentile(50) / 1e6).toBeGreaterThanOrEqual(resolutionMs - 1);
    expect(lateness(delay.percentile(50))).toBeLessThan(resolutionMs / 2);
    expect(lateness(12e6)).toBeCloseTo(2);
    expect(lateness(9e6)).toBe(0);
  });
});
