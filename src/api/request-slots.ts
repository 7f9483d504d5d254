/**
 * A fleet's request limiter: at most `concurrency` exchanges in flight across every account's
 * client, like a plain limiter, except for the order it serves its queue in. A window holds a
 * database connection from its BEGIN to its COMMIT while its pages arrive; a request of an account
 * that holds one goes ahead of the requests of accounts that hold none, so that connection is
 * released sooner and the next account waiting for the pool gets it. Among accounts holding one,
 * the window that took its connection first goes first: it is the closest to its COMMIT, and
 * finishing windows one after another turns the pool over faster than advancing all of them
 * together (fleet bench 200 x 2,000 rows at 50 ms: 0.64-0.65 of the latency bound with the
 * holders served in request order, 0.70-0.71 oldest first). A window taken again is a new turn, so
 * an account's large backfill, one window after another, never keeps the front. Among accounts
 * holding none, first come, first served: an account queues at most its own walk's pages at a
 * time, so the accounts beside it still get a slot every round.
 *
 * The priority is read when a slot frees, not when a request queues: pages a window's walk
 * fetched ahead, queued before its transaction began, move up as soon as it has its connection.
 */
export class RequestSlots {
  readonly #waiting: { lane: Lane; start: () => void }[] = [];
  #free: number;
  #clock = 0;

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a whole number ≥ 1, not ${concurrency}`);
    this.#free = concurrency;
  }

  /** Requests queued for a slot (for tests). */
  get pending(): number {
    return this.#waiting.length;
  }

  /** One account's view of the slots: its requests, and whether it holds a window's connection. */
  lane(): RequestLane {
    const lane: Lane = { held: 0, since: undefined };
    return {
      slot: <T>(attempt: () => Promise<T>) => this.#run(lane, attempt),
      holding: (held: boolean) => {
        lane.held += held ? 1 : -1;
        if (held && lane.held === 1) lane.since = this.#clock++;
        if (lane.held === 0) lane.since = undefined;
      },
    };
  }

  async #run<T>(lane: Lane, attempt: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((start) => this.#waiting.push({ lane, start }));
    try {
      return await attempt();
    } finally {
      this.#release();
    }
  }

  /** Hands the freed slot to the first request of the window that took its connection first, else to the first request. */
  #release(): void {
    if (this.#waiting.length === 0) {
      this.#free += 1;
      return;
    }
    // The window that took its connection first is the closest to giving it back.
    let pick = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [i, w] of this.#waiting.entries()) {
      if (w.lane.since !== undefined && w.lane.since < oldest) {
        oldest = w.lane.since;
        pick = i;
      }
    }
    const [next] = this.#waiting.splice(pick, 1);
    next!.start();
  }
}

interface Lane {
  /** Windows of the account holding a connection now (one at a time; a count in case). */
  held: number;
  /** When it took the connection it holds (a count of takings). */
  since: number | undefined;
}

export interface RequestLane {
  /** ClientOptions.requestSlot of the account's client. */
  slot<T>(attempt: () => Promise<T>): Promise<T>;
  /** A window of the account took (true) or gave back (false) its database connection. */
  holding(held: boolean): void;
}
