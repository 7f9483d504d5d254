// A fleet raises V8's heap growing factor at run time (src/cli/fleet-heap.ts): it must be set only
// when Node was not given the flag, and setting it after start must still space out the full
// collections (a Node whose flags froze after start would silently ignore it).
import { spawnSync } from "node:child_process";
import { describe, expect, test } from "@jest/globals";
import { defaultHeapGrowingPercent, growFleetHeap, readHeapGrowingPercent } from "../../src/cli/fleet-heap.js";
import { ConfigError } from "../../src/errors.js";

/**
 * Full (mark-compact) collections of a workload shaped like a fleet's: pages of rows that live
 * long enough to be promoted, then die in the old generation. `flags`, when given, is set with
 * v8.setFlagsFromString once the process runs, as growFleetHeap sets it.
 */
function fullCollections(flags: string | undefined): number {
  const workload = `
    const { PerformanceObserver, constants } = require("node:perf_hooks");
    if (process.env.SET_FLAGS) require("node:v8").setFlagsFromString(process.env.SET_FLAGS);
    let full = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
    }).observe({ entryTypes: ["gc"] });
    const inFlight = [];
    for (let i = 0; i < 36000; i++) {
      const page = [];
      for (let j = 0; j < 100; j++) page.push({ id: i + "-" + j, amount: i * j, raw: '{"id":"' + i + "-" + j + '","n":' + i + "}" });
      inFlight.push(page);
      if (inFlight.length > 1000) inFlight.shift();
    }
    setTimeout(() => console.log(full), 50);`;
  const env: NodeJS.ProcessEnv = { ...process.env, SET_FLAGS: flags ?? "" };
  delete env.NODE_OPTIONS;
  // A small young generation promotes the pages as a fleet's 16 MB one promotes its larger load.
  const child = spawnSync(process.execPath, ["--max-semi-space-size=4", "--max-old-space-size=512", "-e", workload], {
    env,
    encoding: "utf8",
  });
  expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: "" });
  return Number(child.stdout.trim());
}

describe("the fleet's heap growth", () => {
  test("SYNC_HEAP_GROWTH: 150 unless set, 0 for V8's own choice; anything but a whole percent up to 1000 is a configuration error", () => {
    expect(readHeapGrowingPercent({})).toBe(defaultHeapGrowingPercent);
    expect(defaultHeapGrowingPercent).toBe(150);
    expect(readHeapGrowingPercent({ SYNC_HEAP_GROWTH: " 0 " })).toBe(0);
    expect(readHeapGrowingPercent({ SYNC_HEAP_GROWTH: "1000" })).toBe(1000);
    for (const bad of ["-1", "1001", "1.5", "50%", "lots"]) {
      expect(() => readHeapGrowingPercent({ SYNC_HEAP_GROWTH: bad })).toThrow(ConfigError);
      expect(() => readHeapGrowingPercent({ SYNC_HEAP_GROWTH: bad })).toThrow(
        `SYNC_HEAP_GROWTH="${bad}" must be a whole number from 0 to 1000`,
      );
    }
  });

  test("is set unless Node was started with the flag", () => {
    const set: string[] = [];
    const record = (flags: string) => void set.push(flags);
    expect(growFleetHeap(150, ["--max-semi-space-size=16", "--max-old-space-size=512"], record)).toBe(true);
    expect(growFleetHeap(0, [], record)).toBe(true);
    expect(growFleetHeap(150, ["--heap-growing-percent=0"], record)).toBe(false);
    expect(growFleetHeap(150, ["--heap_growing_percent=50"], record)).toBe(false);
    expect(growFleetHeap(150, ["--heap-growing-percentile=5"], record)).toBe(true);
    expect(set).toEqual(["--heap-growing-percent=150", "--heap-growing-percent=0", "--heap-growing-percent=150"]);
  });

  test("set after start, it spaces out full collections", () => {
    const flags: string[] = [];
    growFleetHeap(defaultHeapGrowingPercent, [], (f) => void flags.push(f));
    const asV8Chooses = fullCollections(undefined);
    const grown = fullCollections(flags[0]);
    // Measured on day 15, Node 24.22, six runs each: 20-22 against 9-11. With 12,000 pages it had
    // been 11-12 against 5, then 8-10 against 4-5: a collection more or less crossed the line.
    expect(asV8Chooses).toBeGreaterThanOrEqual(6);
    expect(grown).toBeLessThanOrEqual(asV8Chooses * 0.6);
  });
});
