import { describe, expect, test } from "@jest/globals";
import { pageSizeOf } from "../../src/sync/pages.js";
import { isInstant, planStart, splitAround, splitWindow, type Window, WindowQueue } from "../../src/sync/plan.js";
import { asMicros, earliest, type Micros, type Millis } from "../../src/time.js";
import { dayMicros, days, ms } from "../helpers/time.js";

/** A literal instant, in microseconds. */
const µ = (n: number): Micros => asMicros(n);

/** Every window of a queue with fixed spans. */
function planWindows(from: Micros, until: Micros, windowMs: Millis): Window[] {
  const queue = new WindowQueue(from, until, { windowMs, targetRows: 0 });
  const windows: Window[] = [];
  for (let window = queue.shift(); window; window = queue.shift()) windows.push(window);
  return windows;
}

describe("window planner", () => {
  test("first run starts at SYNC_START, else at the oldest row, else nowhere", () => {
    expect(planStart({ watermark: undefined, lookbackMs: days(1), start: dayMicros(5), oldest: dayMicros(2) })).toBe(dayMicros(5));
    expect(planStart({ watermark: undefined, lookbackMs: days(1), start: undefined, oldest: dayMicros(2) })).toBe(dayMicros(2));
    expect(planStart({ watermark: undefined, lookbackMs: days(1), start: undefined, oldest: undefined })).toBeUndefined();
  });

  test("a walk of the whole history starts at the earliest of the API's oldest row and the oldest held", () => {
    expect(earliest(µ(5), µ(3))).toBe(3);
    expect(earliest(µ(3), µ(5))).toBe(3);
    expect(earliest(undefined, µ(5))).toBe(5);
    expect(earliest(µ(-7), undefined)).toBe(-7);
    expect(earliest(undefined, undefined)).toBeUndefined();
    expect(earliest()).toBeUndefined();
  });

  test("later runs start at the watermark minus the lookback, never before SYNC_START", () => {
    expect(planStart({ watermark: dayMicros(10), lookbackMs: days(1), start: undefined, oldest: undefined })).toBe(dayMicros(9));
    expect(planStart({ watermark: dayMicros(10), lookbackMs: ms(0), start: undefined, oldest: undefined })).toBe(dayMicros(10));
    expect(planStart({ watermark: dayMicros(10), lookbackMs: days(1), start: dayMicros(9.5), oldest: undefined })).toBe(dayMicros(9.5));
  });

  test("windows are half-open, contiguous, at most SYNC_WINDOW long, and end at the run's start", () => {
    const windows = planWindows(µ(0), µ(dayMicros(16) + 7), days(7));
    expect(windows).toEqual([
      { from: µ(0), to: dayMicros(7) },
      { from: dayMicros(7), to: dayMicros(14) },
      { from: dayMicros(14), to: dayMicros(16) + 7 },
    ]);
    expect(planWindows(µ(5), µ(5), ms(1000))).toEqual([]);
    expect(planWindows(µ(10), µ(5), ms(1000))).toEqual([]);
  });

  test("a window splits into two contiguous halves until it is one microsecond wide", () => {
    expect(splitWindow({ from: µ(0), to: µ(10) })).toEqual([
      { from: µ(0), to: µ(5) },
      { from: µ(5), to: µ(10) },
    ]);
    expect(splitWindow({ from: µ(0), to: µ(3) })).toEqual([
      { from: µ(0), to: µ(1) },
      { from: µ(1), to: µ(3) },
    ]);
    expect(splitWindow({ from: µ(4), to: µ(5) })).toBeUndefined();
  });

  test("with a row target, each new window's span follows the density the last window was counted at", () => {
    const queue = new WindowQueue(µ(0), dayMicros(1000), { windowMs: days(1), targetRows: 10_000 });
    const first = queue.peek()!;
    expect(first).toEqual({ from: µ(0), to: dayMicros(1) });
    expect(queue.peek()).toBe(first); // the head a walk ahead starts on is the window later taken
    queue.observe(first, 5_000); // half the target: the next span doubles
    expect(queue.shift()).toBe(first);
    const second = queue.shift()!;
    expect(second).toEqual({ from: dayMicros(1), to: dayMicros(3) });
    queue.observe(second, 40_000); // four times the target over 2 days: half a day(1)
    const third = queue.shift()!;
    expect(third).toEqual({ from: dayMicros(3), to: dayMicros(3.5) });
    queue.observe(third, 0); // nothing there: grow, but at most eightfold per window
    expect(queue.shift()).toEqual({ from: dayMicros(3.5), to: dayMicros(7.5) });
    queue.observe({ from: µ(0), to: dayMicros(1) }, 1); // one row a day(1) would ask for 10,000 days: still eightfold
    expect(queue.shift()).toEqual({ from: dayMicros(7.5), to: dayMicros(15.5) });
  });

  test("a split window's halves come next, and the last window ends exactly at the run's start", () => {
    const queue = new WindowQueue(µ(0), dayMicros(10), { windowMs: days(4), targetRows: 10_000 });
    const first = queue.shift()!;
    queue.halve(first, 80_000);
    expect(queue.shift()).toEqual({ from: µ(0), to: dayMicros(2) });
    expect(queue.shift()).toEqual({ from: dayMicros(2), to: dayMicros(4) });
    expect(queue.shift()).toEqual({ from: dayMicros(4), to: dayMicros(4.5) }); // sized on the split window's count
    queue.observe({ from: dayMicros(4), to: dayMicros(4.5) }, 100);
    expect(queue.shift()).toEqual({ from: dayMicros(4.5), to: dayMicros(8.5) });
    queue.observe({ from: dayMicros(4.5), to: dayMicros(8.5) }, 100);
    expect(queue.shift()).toEqual({ from: dayMicros(8.5), to: dayMicros(10) });
    expect(queue.shift()).toBeUndefined();
  });

  test("a row target of 0 keeps every window SYNC_WINDOW long, whatever the counts", () => {
    const queue = new WindowQueue(µ(0), dayMicros(3), { windowMs: days(1), targetRows: 0 });
    const first = queue.shift()!;
    queue.observe(first, 1);
    expect([first, queue.shift(), queue.shift(), queue.shift()]).toEqual([
      { from: µ(0), to: dayMicros(1) },
      { from: dayMicros(1), to: dayMicros(2) },
      { from: dayMicros(2), to: dayMicros(3) },
      undefined,
    ]);
  });
});

describe("an instant cut out of a window", () => {
  test("the parts before, at and after the instant are contiguous and cover the window; empty parts are left out", () => {
    expect(splitAround({ from: µ(10), to: µ(20) }, µ(15))).toEqual([
      { from: µ(10), to: µ(15) },
      { from: µ(15), to: µ(16) },
      { from: µ(16), to: µ(20) },
    ]);
    expect(splitAround({ from: µ(10), to: µ(20) }, µ(10))).toEqual([
      { from: µ(10), to: µ(11) },
      { from: µ(11), to: µ(20) },
    ]);
    expect(splitAround({ from: µ(10), to: µ(20) }, µ(19))).toEqual([
      { from: µ(10), to: µ(19) },
      { from: µ(19), to: µ(20) },
    ]);
    expect(splitAround({ from: µ(10), to: µ(20) }, µ(15)).filter(isInstant)).toEqual([{ from: µ(15), to: µ(16) }]);
  });

  test("a queue walks the parts next, in order, ahead of any new window", () => {
    const queue = new WindowQueue(µ(0), µ(100), { windowMs: ms(0.05), targetRows: 0 });
    const first = queue.shift()!;
    queue.halve(first, 150, splitAround(first, µ(30)));
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
      { from: µ(0), to: µ(30) },
      { from: µ(30), to: µ(31) },
      { from: µ(31), to: µ(50) },
      { from: µ(50), to: µ(100) },
    ]);
  });
});

describe("the page size a walk counts on", () => {
  const page = (rows: number, count: number) =>
    ({ count, rows: Array.from({ length: rows }), rejected: [], limit: 100, maxLimit: 100, offset: 0 }) as never;
  test("a full page sets it; a short one with more rows counted is a silent clamp; a short one that may be the end keeps the size asked", () => {
    expect(pageSizeOf(page(100, 150), 100)).toBe(100);
    expect(pageSizeOf(page(20, 150), 100)).toBe(20);
    expect(pageSizeOf(page(20, 20), 100)).toBe(100);
    expect(pageSizeOf(page(0, 5), 100)).toBe(100);
  });
});
