import { addMicros, asMicros, type Micros, type Millis, millisToMicros, type Span } from "../time.js";

/** A half-open span of `created_at`: [from, to). */
export type Window = Span;

export interface PlanInput {
  /** Stored watermark: every row created before it was walked by an earlier run. */
  watermark: Micros | undefined;
  lookbackMs: Millis;
  /** SYNC_START: never fetch rows created before this. */
  start: Micros | undefined;
  /** created_at of the oldest row the API lists or the account holds live; only consulted on a first (or full) run without SYNC_START. */
  oldest: Micros | undefined;
}

/**
 * Where this run starts: the watermark minus the lookback (late changes to recent rows are caught
 * there), never before SYNC_START; on a first run SYNC_START or the oldest row.
 * Undefined means there is nothing to fetch (a first run on an empty account).
 */
export function planStart({ watermark, lookbackMs, start, oldest }: PlanInput): Micros | undefined {
  if (watermark !== undefined) {
    const from = addMicros(watermark, -millisToMicros(lookbackMs));
    return start !== undefined ? asMicros(Math.max(from, start)) : from;
  }
  return start ?? oldest;
}

export interface WindowSizing {
  /** SYNC_WINDOW: the first window's span, and every window's when `targetRows` is 0. */
  windowMs: Millis;
  /** SYNC_WINDOW_ROWS: rows a window should hold; later spans follow the ledger's density. 0: fixed spans. */
  targetRows: number;
}

/** How far one observation may stretch the next span: an empty stretch of history is crossed in a few steps, not one leap. */
const maxGrowth = 8;
const minSpanMicros = 1_000_000;

/**
 * The run's windows, made one at a time from `from` up to `until`. With a row target, each new
 * window's span is the last counted window's span scaled by target / count, so a sparse history is
 * crossed in few windows and a dense one in windows of about the same number of rows: every window
 * costs requests no page can share (the count read again at its end, its partial last page), and
 * fixed spans pay them every ~2,000 rows on a typical ledger. A window that overshoots is still
 * halved by the walker (see defaultMaxRowsPerWindow); its halves come next, ahead of any new window.
 */
export class WindowQueue {
  #cursor: Micros;
  #spanMicros: number;
  /** Made but not yet taken: the head a walk ahead has started on, or a split window's halves. */
  readonly #pending: Window[] = [];

  constructor(
    from: Micros,
    readonly until: Micros,
    private readonly sizing: WindowSizing,
  ) {
    this.#cursor = from;
    this.#spanMicros = Math.max(1, millisToMicros(sizing.windowMs));
  }

  /** The next window, made now if it was not yet; the same object until it is shifted. */
  peek(): Window | undefined {
    if (this.#pending.length === 0 && this.#cursor < this.until) {
      const to = asMicros(Math.min(this.#cursor + this.#spanMicros, this.until));
      this.#pending.push({ from: this.#cursor, to });
      this.#cursor = to;
    }
    return this.#pending[0];
  }

  shift(): Window | undefined {
    const window = this.peek();
    this.#pending.shift();
    return window;
  }

  /**
   * `window` (just taken) counted `count` rows and must be walked in parts (two halves unless
   * given): they come next, in order.
   */
  halve(window: Window, count: number, parts: Window[] = splitWindow(window)!): void {
    this.observe(window, count);
    this.#pending.unshift(...parts);
  }

  /** The API counted `count` rows in `window`: windows made from now on aim at the row target. */
  observe(window: Window, count: number): void {
    if (this.sizing.targetRows <= 0) return;
    const span = window.to - window.from;
    const scaled = count === 0 ? span * maxGrowth : Math.min(span * maxGrowth, (span * this.sizing.targetRows) / count);
    this.#spanMicros = Math.max(minSpanMicros, Math.round(scaled));
  }
}

/** Halves a window that holds too many rows for one transaction; undefined when it cannot shrink. */
export function splitWindow({ from, to }: Window): [Window, Window] | undefined {
  if (to - from < 2) return undefined;
  const middle = from + Math.floor((to - from) / 2);
  return [
    { from, to: asMicros(middle) },
    { from: asMicros(middle), to },
  ];
}

/** A window of one microsecond: it cannot be halved, and its rows share one created_at. */
export function isInstant({ from, to }: Window): boolean {
  return to - from === 1;
}

/**
 * The parts of `window` around the instant `at`: before it, the instant alone, after it (empty
 * parts left out). Rows of one instant are walked without relying on the server's order (instant.ts).
 */
export function splitAround({ from, to }: Window, at: Micros): Window[] {
  const parts: Window[] = [];
  if (from < at) parts.push({ from, to: at });
  parts.push({ from: at, to: addMicros(at, 1) });
  if (at + 1 < to) parts.push({ from: addMicros(at, 1), to });
  return parts;
}
