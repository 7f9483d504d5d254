// The transactions pass as one object: plan → walk (the next window's walk started ahead) → write
// behind → commit window → checkpoint. The job and the bench both iterate it; nothing here calls
// back into the planner: a walk reports its count and its last round as promises (pages.ts `Walk`),
// and the pipeline alone feeds them to the plan.
import pLimit from "p-limit";
import { documentedMaxLimit, type GenerectClient } from "../api/client.js";
import type { TransactionsPage } from "../api/schema.js";
import { defaultMaxRowsPerWindow } from "../config/window-limits.js";
import { withConnectionRetry } from "../db/retry.js";
import { interruption, SyncError } from "../errors.js";
import { formatInstant } from "../time.js";
import type { WalkOptions } from "./pages.js";
import { splitWindow, type Window } from "./plan.js";
import { type PrefetchedWalk, prefetchWalk } from "./prefetch.js";
import { syncWindow, type WindowCommitContext, type WindowOutcome } from "./window.js";

/** Where the windows come from: the run's planner (plan.ts WindowQueue) or a fixed list (FixedWindows). */
export interface WindowPlan {
  /** The next window, made now if it was not yet; the same object until it is shifted. */
  peek(): Window | undefined;
  shift(): Window | undefined;
  /** The API counted `count` rows in `window`: windows made from now on may be sized by it. */
  observe(window: Window, count: number): void;
  /** `window` (just taken) must be walked in parts (two halves unless given): they come next. */
  halve(window: Window, count: number, parts?: Window[]): void;
}

/** `verify --repair`'s plan: exactly the windows given, in order, halved in place when they must be. */
export class FixedWindows implements WindowPlan {
  readonly #windows: Window[];

  constructor(windows: readonly Window[]) {
    this.#windows = [...windows].sort((a, b) => a.from - b.from);
  }

  peek(): Window | undefined {
    return this.#windows[0];
  }

  shift(): Window | undefined {
    return this.#windows.shift();
  }

  observe(): void {}

  halve(window: Window, _count: number, parts: Window[] | undefined = splitWindow(window)): void {
    if (!parts)
      throw new SyncError(
        "REPAIR_UNSETTLED",
        `window [${formatInstant(window.from)}, ${formatInstant(window.to)}) cannot be split further`,
      );
    this.#windows.unshift(...parts);
  }
}

export interface WalkSettings {
  client: GenerectClient;
  plan: WindowPlan;
  /** SYNC_CONCURRENCY: requests in flight across the run's walks. */
  concurrency: number;
  signal?: AbortSignal;
  /** A window counting more rows than this is halved first, so one transaction stays bounded. @default defaultMaxRowsPerWindow */
  maxRowsPerWindow?: number;
  /** Page 0 of the plan's first window, already fetched (first-run.ts): its first walk starts from it. */
  head?: { window: Window; page: TransactionsPage };
}

/**
 * Plan → walk: hands out each window with its first walk, the one started ahead when the walk
 * before it reached its last round, so the request slots never idle between windows. A walk's count
 * sizes the windows made after it (plan.observe) before its last round starts the next one.
 */
export class WindowWalks {
  /** One limiter for the run's walks: at most `concurrency` requests in flight, even while two windows overlap. */
  readonly limit: NonNullable<WalkOptions["limit"]>;
  #pageSize = documentedMaxLimit;
  #ahead: PrefetchedWalk | undefined;
  #stopped = false;
  #head: WalkSettings["head"];

  constructor(private readonly settings: WalkSettings) {
    this.limit = pLimit(settings.concurrency);
    this.#head = settings.head;
  }

  /** Rows per page, learned from the server's max_limit on the first page. */
  get pageSize(): number {
    return this.#pageSize;
  }

  /** The options of a window's walk; the first walk alone may stop at a count too large for one transaction. */
  walkOptions(window: Window, walk: number): Omit<WalkOptions, "sink"> {
    const canHalve = splitWindow(window) !== undefined;
    return {
      pageSize: this.#pageSize,
      concurrency: this.settings.concurrency,
      signal: this.settings.signal,
      limit: this.limit,
      maxRows: walk === 1 && canHalve ? (this.settings.maxRowsPerWindow ?? defaultMaxRowsPerWindow) : undefined,
    };
  }

  /** The next window and its first walk (started ahead, or now); undefined when the plan is done. */
  next(): { window: Window; first: PrefetchedWalk } | undefined {
    const window = this.settings.plan.shift();
    if (!window) return undefined;
    const ahead = this.#ahead?.window === window ? this.#ahead : undefined;
    if (ahead) this.#ahead = undefined;
    return { window, first: ahead ?? this.start(window) };
  }

  /** A first walk of `window` from scratch (a window retried after a lost connection walks again). */
  start(window: Window): PrefetchedWalk {
    // Used once, by the walk it was fetched for: a walk started again (after a lost connection) asks the server anew.
    const head = this.#head;
    this.#head = undefined;
    const firstPage = head && head.window.from === window.from && head.window.to === window.to ? head.page : undefined;
    const walk = prefetchWalk(this.settings.client, window, { ...this.walkOptions(window, 1), firstPage });
    void walk.counted.then(({ count, maxLimit }) => {
      if (maxLimit) this.#pageSize = maxLimit;
      this.settings.plan.observe(window, count);
    });
    void walk.tail.then(() => this.#startNext());
    return walk;
  }

  /** Starts the walk of the next planned window, unless one is already ahead or the walks have stopped. */
  #startNext(): void {
    if (this.#stopped || this.#ahead || this.settings.signal?.aborted) return;
    const window = this.settings.plan.peek();
    if (window) this.#ahead = this.start(window);
  }

  /** No walk starts after this; the one ahead is cancelled. */
  async stop(reason: unknown): Promise<void> {
    this.#stopped = true;
    await this.#ahead?.cancel(reason);
  }
}

export interface PipelineSettings extends WalkSettings, Omit<WindowCommitContext, "client" | "signal" | "walks"> {
  /** Before each window's transaction: the account's lock is still held (job/lock.ts). */
  reassert(): Promise<void>;
  /** Reconnect attempts per window before DB_UNAVAILABLE. @default see db/retry.ts */
  databaseRetries?: number;
  onReconnect?: (error: Error, attempt: number) => void;
}

export type WindowEvent = WindowOutcome & { window: Window };

/**
 * The whole pass: each window walked and committed in its own transaction (window.ts), a lost
 * connection retried by walking the window again, a window that must be split put back into the
 * plan as its parts. Yields every outcome; the caller logs and sums them.
 */
export class WindowPipeline implements AsyncIterable<WindowEvent> {
  readonly walks: WindowWalks;

  constructor(private readonly settings: PipelineSettings) {
    this.walks = new WindowWalks(settings);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WindowEvent> {
    const { settings } = this;
    const context: WindowCommitContext = { ...settings, walks: this.walks };
    try {
      for (let next = this.walks.next(); next; next = this.walks.next()) {
        const { window } = next;
        const interrupted = interruption(settings.signal);
        if (interrupted) {
          await next.first.cancel(interrupted);
          throw interrupted;
        }
        let first: PrefetchedWalk | undefined = next.first;
        const outcome = await withConnectionRetry(
          async () => {
            const walk = first ?? this.walks.start(window);
            first = undefined;
            await settings.reassert().catch(async (error: unknown) => {
              await walk.cancel(error);
              throw error;
            });
            return syncWindow(context, window, walk);
          },
          { signal: settings.signal, retries: settings.databaseRetries, onRetry: settings.onReconnect },
        );
        if (outcome.kind === "split") settings.plan.halve(window, outcome.count, outcome.parts);
        yield { ...outcome, window };
      }
    } finally {
      await this.walks.stop(new Error("the run stopped before this window"));
    }
  }
}
