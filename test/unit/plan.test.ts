import { describe, expect, test } from "@jest/globals";
import { type Window, WindowQueue, planStart, splitWindow } from "../../src/sync/plan.js";

const hour = 3_600_000_000; // microseconds
const day = 24 * hour;

/** Every window of a queue with fixed spans. */
function planWindows(from: number, until: number, windowMs: number): Window[] {
  const queue = new WindowQueue(from, until, { windowMs, targetRows: 0 });
  const windows: Window[] = [];
  for (let window = queue.shift(); window; window = queue.shift()) windows.push(window);
  return windows;
}

describe("window planner", () => {
  test("first run starts at SYNC_START, else at the oldest row, else nowhere", () => {
    expect(planStart({ watermark: undefined, lookbackMs: 86_400_000, start: 5 * day, oldest: 2 * day })).toBe(5 * day);
    expect(planStart({ watermark: undefined, lookbackMs: 86_400_000, start: undefined, oldest: 2 * day })).toBe(2 * day);
    expect(planStart({ watermark: undefined, lookbackMs: 86_400_000, start: undefined, oldest: undefined })).toBeUndefined();
  });

  test("later runs start at the watermark minus the lookback, never before SYNC_START", () => {
    expect(planStart({ watermark: 10 * day, lookbackMs: 86_400_000, start: undefined, oldest: undefined })).toBe(9 * day);
    expect(planStart({ watermark: 10 * day, lookbackMs: 0, start: undefined, oldest: undefined })).toBe(10 * day);
    expect(planStart({ watermark: 10 * day, lookbackMs: 86_400_000, start: 9.5 * day, oldest: undefined })).toBe(9.5 * day);
  });

  test("windows are half-open, contiguous, at most SYNC_WINDOW long, and end at the run's start", () => {
    const windows = planWindows(0, 16 * day + 7, 7 * 86_400_000);
    expect(windows).toEqual([
      { from: 0, to: 7 * day },
      { from: 7 * day, to: 14 * day },
      { from: 14 * day, to: 16 * day + 7 },
    ]);
    expect(planWindows(5, 5, 1000)).toEqual([]);
    expect(planWindows(10, 5, 1000)).toEqual([]);
  });

  test("a window splits into two contiguous halves until it is one microsecond wide", () => {
    expect(splitWindow({ from: 0, to: 10 })).toEqual([{ from: 0, to: 5 }, { from: 5, to: 10 }]);
    expect(splitWindow({ from: 0, to: 3 })).toEqual([{ from: 0, to: 1 }, { from: 1, to: 3 }]);
    expect(splitWindow({ from: 4, to: 5 })).toBeUndefined();
  });

  test("with a row target, each new window's span follows the density the last window was counted at", () => {
    const queue = new WindowQueue(0, 1000 * day, { windowMs: 86_400_000, targetRows: 10_000 });
    const first = queue.peek()!;
    expect(first).toEqual({ from: 0, to: day });
    expect(queue.peek()).toBe(first); // the head a walk ahead starts on is the window later taken
    queue.observe(first, 5_000); // half the target: the next span doubles
    expect(queue.shift()).toBe(first);
    const second = queue.shift()!;
    expect(second).toEqual({ from: day, to: 3 * day });
    queue.observe(second, 40_000); // four times the target over 2 days: half a day
    const third = queue.shift()!;
    expect(third).toEqual({ from: 3 * day, to: 3.5 * day });
    queue.observe(third, 0); // nothing there: grow, but at most eightfold per window
    expect(queue.shift()).toEqual({ from: 3.5 * day, to: 7.5 * day });
    queue.observe({ from: 0, to: day }, 1); // one row a day would ask for 10,000 days: still eightfold
    expect(queue.shift()).toEqual({ from: 7.5 * day, to: 15.5 * day });
  });

  test("a split window's halves come next, and the last window ends exactly at the run's start", () => {
    const queue = new WindowQueue(0, 10 * day, { windowMs: 4 * 86_400_000, targetRows: 10_000 });
    const first = queue.shift()!;
    queue.halve(first, 80_000);
    expect(queue.shift()).toEqual({ from: 0, to: 2 * day });
    expect(queue.shift()).toEqual({ from: 2 * day, to: 4 * day });
    expect(queue.shift()).toEqual({ from: 4 * day, to: 4.5 * day }); // sized on the split window's count
    queue.observe({ from: 4 * day, to: 4.5 * day }, 100);
    expect(queue.shift()).toEqual({ from: 4.5 * day, to: 8.5 * day });
    queue.observe({ from: 4.5 * day, to: 8.5 * day }, 100);
    expect(queue.shift()).toEqual({ from: 8.5 * day, to: 10 * day });
    expect(queue.shift()).toBeUndefined();
  });

  test("a row target of 0 keeps every window SYNC_WINDOW long, whatever the counts", () => {
    const queue = new WindowQueue(0, 3 * day, { windowMs: 86_400_000, targetRows: 0 });
    const first = queue.shift()!;
    queue.observe(first, 1);
    expect([first, queue.shift(), queue.shift(), queue.shift()]).toEqual([
      { from: 0, to: day }, { from: day, to: 2 * day }, { from: 2 * day, to: 3 * day }, undefined,
    ]);
  });
});
