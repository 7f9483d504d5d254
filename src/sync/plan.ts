import type { Micros } from "../api/time.js";

/** A half-open span of `created_at`: [from, to). */
export interface Window {
  from: Micros;
  to: Micros;
}

export interface PlanInput {
  /** Stored watermark: every row created before it was walked by an earlier run. */
  watermark: Micros | undefined;
  lookbackMs: number;
  /** SYNC_START: never fetch rows created before this. */
  start: Micros | undefined;
  /** created_at of the oldest row the API has; only consulted on a first run without SYNC_START. */
  oldest: Micros | undefined;
}

/**
 * Where this run starts: the watermark minus the lookback (late changes to recent rows are caught
 * there), never before SYNC_START; on a first run SYNC_START or the oldest row.
 * Undefined means there is nothing to fetch (a first run on an empty account).
 */
export function planStart({ watermark, lookbackMs, start, oldest }: PlanInput): Micros | undefined {
  if (watermark !== undefined) {
    const from = watermark - lookbackMs * 1000;
    return start !== undefined ? Math.max(from, start) : from;
  }
  return start ?? oldest;
}

/** The run's windows: consecutive spans of at most `windowMs`, ending exactly at `until` (the run's start). */
export function planWindows(from: Micros, until: Micros, windowMs: number): Window[] {
  const windows: Window[] = [];
  for (let cursor = from; cursor < until; ) {
    const to = Math.min(cursor + windowMs * 1000, until);
    windows.push({ from: cursor, to });
    cursor = to;
  }
  return windows;
}

/** Halves a window that holds too many rows for one transaction; undefined when it cannot shrink. */
export function splitWindow({ from, to }: Window): [Window, Window] | undefined {
  if (to - from < 2) return undefined;
  const middle = from + Math.floor((to - from) / 2);
  return [
    { from, to: middle },
    { from: middle, to },
  ];
}
