import { describe, expect, test } from "@jest/globals";
import { planStart, planWindows, splitWindow } from "../../src/sync/plan.js";

const hour = 3_600_000_000; // microseconds
const day = 24 * hour;

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
});
