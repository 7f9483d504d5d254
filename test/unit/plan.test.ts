import { describe, expect, test } from "@jest/globals";
import { type Window, WindowQueue, isInstant, planStart, splitAround, splitWindow } from "../../src/sync/plan.js";
import { pageSizeOf } from "../../src/sync/walk.js";

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

describe("an instant cut out of a window", () => {
  test("the parts before, at and after the instant are contiguous and cover the window; empty parts are left out", () => {
    expect(splitAround({ from: 10, to: 20 }, 15)).toEqual([{ from: 10, to: 15 }, { from: 15, to: 16 }, { from: 16, to: 20 }]);
    expect(splitAround({ from: 10, to: 20 }, 10)).toEqual([{ from: 10, to: 11 }, { from: 11, to: 20 }]);
    expect(splitAround({ from: 10, to: 20 }, 19)).toEqual([{ from: 10, to: 19 }, { from: 19, to: 20 }]);
    expect(splitAround({ from: 10, to: 20 }, 15).filter(isInstant)).toEqual([{ from: 15, to: 16 }]);
  });

  test("a queue walks the parts next, in order, ahead of any new window", () => {
    const queue = new WindowQueue(0, 100, { windowMs: 0.05, targetRows: 0 });
    const first = queue.shift()!;
    queue.halve(first, 150, splitAround(first, 30));
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
      { from: 0, to: 30 }, { from: 30, to: 31 }, { from: 31, to: 50 }, { from: 50, to: 100 },
    ]);
  });
});

describe("the page size a walk counts on", () => {
  const page = (rows: number, count: number) => ({ count, rows: Array.from({ length: rows }), rejected: [], limit: 100, maxLimit: 100, offset: 0 }) as never;
  test("a full page sets it; a short one with more rows counted is a silent clamp; a short one that may be the end keeps the size asked", () => {
    expect(pageSizeOf(page(100, 150), 100)).toBe(100);
    expect(pageSizeOf(page(20, 150), 100)).toBe(20);
    expect(pageSizeOf(page(20, 20), 100)).toBe(100);
    expect(pageSizeOf(page(0, 5), 100)).toBe(100);
  });
});
