import type { GenerectClient } from "../api/client.js";
import type { Transaction } from "../api/schema.js";
import type { Window, WindowQueue } from "./plan.js";
import { type WalkOptions, type WalkResult, walkWindow } from "./walk.js";

type Sink = WalkOptions["sink"];

/**
 * A window's first walk, started before the window before it has committed. Each window costs
 * round trips nothing else can fill (its first page, which tells the count, and the count read
 * again at the end); starting the next walk while the current one finishes keeps every request
 * slot busy. Its pages wait for `open` (the window's own transaction) in the walker's write-behind
 * queue, so what is held ahead is bounded by that queue, not by the window's size.
 */
export interface PrefetchedWalk {
  window: Window;
  result: Promise<WalkResult>;
  /** Settles once the walk is in its last round of requests (see WalkOptions.onTail). */
  tail: Promise<void>;
  /** Hands the walk its writer: its waiting pages and the rest go to `sink` from now on. */
  open(sink: Sink): void;
  /** Stops the walk (the window before it failed) and waits until nothing of it is running. */
  cancel(reason: unknown): Promise<void>;
}

export function prefetchWalk(client: GenerectClient, window: Window, options: Omit<WalkOptions, "sink">): PrefetchedWalk {
  let open!: (sink: Sink) => void;
  let refuse!: (reason: unknown) => void;
  const writer = new Promise<Sink>((resolve, reject) => {
    open = resolve;
    refuse = reject;
  });
  writer.catch(() => {}); // refused only on cancel, whose caller handles the reason
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let markTail!: () => void;
  const tail = new Promise<void>((resolve) => (markTail = resolve));
  const result = walkWindow(client, window, {
    ...options,
    signal,
    onTail: () => {
      options.onTail?.();
      markTail();
    },
    sink: async (rows: Transaction[], pages: number) => (await writer)(rows, pages),
  });
  result.catch(() => {}); // a failure is reported to whoever awaits `result`, or dropped with a cancel
  return {
    window,
    result,
    tail,
    open,
    async cancel(reason) {
      stop.abort(reason);
      refuse(reason);
      await result.catch(() => {});
    },
  };
}

/**
 * The run's one walk ahead: started for the queue's head once the current window's walk is in its
 * last round (see `startNext`, the walks' onTail), handed over when that window comes up, cancelled when the
 * run stops. The queue is the caller's, peeked at the moment a walk starts (splits unshift into it,
 * and the head it makes is sized by the window just counted).
 */
export class WalkAhead {
  private next: PrefetchedWalk | undefined;
  private stopped = false;

  constructor(
    private readonly client: GenerectClient,
    private readonly queue: Pick<WindowQueue, "peek">,
    private readonly optionsFor: (window: Window) => Omit<WalkOptions, "sink">,
    private readonly signal?: AbortSignal,
  ) {}

  /** Starts the walk of the next queued window, unless one is already ahead or the run has stopped. */
  readonly startNext = (): void => {
    if (this.stopped || this.next || this.signal?.aborted) return;
    const window = this.queue.peek();
    if (!window) return;
    this.next = prefetchWalk(this.client, window, this.optionsFor(window));
  };

  /** The walk started ahead for `window`, if any; the walk after it starts once it is in its tail. */
  take(window: Window): PrefetchedWalk | undefined {
    const walk = this.next?.window === window ? this.next : undefined;
    if (walk) {
      this.next = undefined;
      void walk.tail.then(this.startNext);
    }
    return walk;
  }

  /** A walk reaching its tail after this (its window failed) starts no other; the one ahead is cancelled. */
  async stop(reason: unknown): Promise<void> {
    this.stopped = true;
    await this.next?.cancel(reason);
  }
}
