import type { GenerectClient } from "../api/client.js";
import type { Transaction } from "../api/schema.js";
import type { Walk, WalkOptions } from "./pages.js";
import type { Window } from "./plan.js";
import { startWalk } from "./walk.js";

type Sink = WalkOptions["sink"];

/**
 * A window's first walk, which may start before the window before it has committed. Each window
 * costs round trips nothing else can fill (its first page, which tells the count, and the count
 * read again at the end); starting the next walk while the current one finishes keeps every
 * request slot busy. Its pages wait for `open` (the window's own transaction) in the walker's
 * write-behind queue, so what is held ahead is bounded by that queue, not by the window's size.
 */
export interface PrefetchedWalk extends Walk {
  window: Window;
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
  const walk = startWalk(client, window, {
    ...options,
    signal,
    sink: async (rows: Transaction[], pages: number) => (await writer)(rows, pages),
  });
  walk.result.catch(() => {}); // a failure is reported to whoever awaits `result`, or dropped with a cancel
  return {
    ...walk,
    window,
    open,
    async cancel(reason) {
      stop.abort(reason);
      refuse(reason);
      await walk.result.catch(() => {});
    },
  };
}
