import type { Transaction } from "../api/schema.js";

/**
 * Fetched pages wait here for the database. The writer takes whatever has accumulated as one batch
 * (up to `maxRows`), so Postgres sees fewer, larger statements while the fetchers keep their
 * requests in flight; a fetcher waits only when `capacity` pages are already waiting, which keeps
 * memory bounded by the pages in flight plus the pages waiting.
 */
export class WriteBehind {
  private queue: Transaction[][] = [];
  private running: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly sink: (rows: Transaction[], pages: number) => Promise<void>,
    private readonly capacity: number,
    private readonly maxRows: number,
  ) {}

  /** Queues a page; resolves once there is room for another (rejects if a write failed). */
  async push(rows: Transaction[]): Promise<void> {
    this.throwIfFailed();
    this.queue.push(rows);
    this.kick();
    while (this.queue.length >= this.capacity && !this.failure) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.throwIfFailed();
  }

  /** Waits until every queued page is written; rejects with the first write failure. */
  async flush(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits until no write is running, whatever happened (before rolling back). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private kick(): void {
    if (this.running || this.failure) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick(); // a page queued while the last batch finished
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch: Transaction[] = [];
        let pages = 0;
        while (this.queue.length > 0 && (pages === 0 || batch.length + this.queue[0]!.length <= this.maxRows)) {
          batch.push(...this.queue.shift()!);
          pages += 1;
        }
        this.wake();
        await this.sink(batch, pages);
      }
    } catch (error) {
      this.failure = { error };
      this.queue = [];
      this.wake();
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
