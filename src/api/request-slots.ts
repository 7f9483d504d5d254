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
  readonly #slots: number;
  #free: number;
  #clock = 0;
  readonly #now: () => number;
  /** Usage since the first request, in the clock's milliseconds (see usage()). */
  readonly #used = { since: undefined as number | undefined, last: 0, requests: 0, waitMs: 0, holdMs: 0, busyMs: 0 };

  constructor(concurrency: number, { now = () => performance.now() }: { now?: () => number } = {}) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a whole number ≥ 1, not ${concurrency}`);
    this.#slots = concurrency;
    this.#free = concurrency;
    this.#now = now;
  }

  /** Requests queued for a slot (for tests). */
  get pending(): number {
    return this.#waiting.length;
  }

  /**
   * How the slots were used since the first request: an operator's answer to whether
   * SYNC_CONCURRENCY is what holds a fleet back (slots busy nearly all the time, requests waiting
   * long for one), and the bench's account of a request's time in its slot beyond the API's latency.
   */
  usage(): RequestSlotUsage {
    this.#account();
    const u = this.#used;
    const slotMs = this.#slots * (u.since === undefined ? 0 : u.last - u.since);
    const share = (ms: number) => (slotMs === 0 ? 0 : ms / slotMs);
    const perRequest = (ms: number) => (u.requests === 0 ? 0 : ms / u.requests);
    return {
      slots: this.#slots,
      requests: u.requests,
      busyShare: share(u.busyMs),
      // A slot is free only while no request waits (#release hands it on), so free time is idle time.
      idleShare: share(slotMs - u.busyMs),
      meanWaitMs: perRequest(u.waitMs),
      meanHoldMs: perRequest(u.holdMs),
    };
  }

  /** Adds the time since the last change to the busy slots' total; call before each change. */
  #account(): void {
    const now = this.#now();
    const u = this.#used;
    if (u.since !== undefined) {
      const elapsed = now - u.last;
      u.busyMs += (this.#slots - this.#free) * elapsed;
    }
    u.last = now;
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
    this.#account();
    this.#used.since ??= this.#used.last;
    const queued = this.#used.last;
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((start) => this.#waiting.push({ lane, start }));
    const started = this.#now();
    try {
      return await attempt();
    } finally {
      this.#account();
      this.#used.requests += 1;
      this.#used.waitMs += started - queued;
      this.#used.holdMs += this.#used.last - started;
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

export interface RequestSlotUsage {
  slots: number;
  /** Requests that held a slot and gave it back. */
  requests: number;
  /** Share of the slots' time held by a request. */
  busyShare: number;
  /** Share of the slots' time free (no request waits then): demand, not slots, was short. */
  idleShare: number;
  /** From asking for a slot to getting one, per request. */
  meanWaitMs: number;
  /** From getting the slot to giving it back (the HTTP exchange), per request. */
  meanHoldMs: number;
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
