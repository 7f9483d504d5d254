import type { GenerectClient } from "../api/client.js";
import type { Transaction, TransactionsPage } from "../api/schema.js";
import { formatInstant } from "../api/time.js";
import { ApiResponseError, GuardError } from "../errors.js";
import type { Window } from "./plan.js";

export interface WalkOptions {
  /** Page size to ask for; the server's answer (`limit`, `max_limit`) can lower or raise it. */
  pageSize: number;
  concurrency: number;
  signal?: AbortSignal;
  /** Called with each page, one at a time, in the order pages arrive. */
  sink: (rows: Transaction[]) => Promise<void>;
  /** Asked once the window's count is known; true stops the walk before anything is written. */
  tooLarge?: (count: number) => boolean;
}

export type WalkResult =
  | { kind: "split"; count: number }
  | {
      kind: "walked";
      /** `count` on the first page and re-read after the last one. */
      countAtStart: number;
      countAtEnd: number;
      /**
       * Every page answered the first page's count. An insert and a delete during one walk leave
       * the counts before and after equal while shifting offsets (a row skipped, a deleted one
       * received); the pages read in between see the count move.
       */
      pageCountsAgree: boolean;
      /** Distinct ids received; equal to both counts when nothing moved during the walk. */
      ids: Set<string>;
      pages: number;
      rows: number;
      /** The server's max_limit, to size the next windows' pages. */
      maxLimit: number | undefined;
    };

function describeWindow(window: Window): string {
  return `[${formatInstant(window.from)}, ${formatInstant(window.to)})`;
}

/**
 * A row outside the window means the server dropped the created_at filter (it does that, silently,
 * with values it cannot read). Writing such rows would be harmless, but advancing the watermark on
 * the strength of an unfiltered answer would not.
 */
function guardInside(page: TransactionsPage, window: Window, offset: number): void {
  for (const row of page.rows) {
    if (row.createdAt < window.from || row.createdAt >= window.to) {
      throw new GuardError(
        "API_FILTER_IGNORED",
        `the API returned transaction ${row.id} created at ${formatInstant(row.createdAt)}, outside the requested window ` +
          `${describeWindow(window)} (page at offset ${offset}): the server ignored the created_at filter; nothing was committed for this window`,
      );
    }
  }
}

function guardOffset(page: TransactionsPage, offset: number, window: Window): void {
  if (page.offset !== undefined && page.offset !== offset) {
    throw new ApiResponseError(`the API answered offset ${page.offset} when asked for offset ${offset} in window ${describeWindow(window)}`);
  }
}

/**
 * Reads every page of one window: the first page alone (it tells the count and the page size),
 * then the remaining offsets with up to `concurrency` requests in flight. Offsets are computed,
 * never taken from `next`: the API's links point at another host. Memory holds at most one page
 * per request in flight, because each waits for its turn to be written before fetching the next.
 */
export async function walkWindow(client: GenerectClient, window: Window, options: WalkOptions): Promise<WalkResult> {
  const first = await client.listTransactions({ gte: window.from, lt: window.to, limit: options.pageSize, offset: 0 });
  guardOffset(first, 0, window);
  if (options.tooLarge?.(first.count)) return { kind: "split", count: first.count };
  guardInside(first, window, 0);

  const firstSize = first.limit ?? options.pageSize;
  const pageSize = first.maxLimit ?? firstSize;
  const offsets: number[] = [];
  for (let offset = firstSize; offset < first.count; offset += pageSize) offsets.push(offset);

  const ids = new Set<string>();
  let rows = 0;
  let pages = 0;
  let pageCountsAgree = true;
  let writing: Promise<void> = Promise.resolve();
  const write = (page: TransactionsPage) => {
    writing = writing.then(async () => {
      for (const row of page.rows) ids.add(row.id);
      rows += page.rows.length;
      pages += 1;
      await options.sink(page.rows);
    });
    return writing;
  };

  await write(first);

  // A failed page stops the others: in-flight requests are aborted and no new page is started.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let next = 0;
  const worker = async () => {
    while (next < offsets.length && !signal.aborted) {
      const offset = offsets[next++]!;
      const page = await client.listTransactions({ gte: window.from, lt: window.to, limit: pageSize, offset });
      guardOffset(page, offset, window);
      guardInside(page, window, offset);
      if (page.count !== first.count) pageCountsAgree = false;
      await write(page);
    }
  };
  const workers = Array.from({ length: Math.min(options.concurrency, offsets.length) }, () =>
    worker().catch((error: unknown) => {
      stop.abort(error);
      throw error;
    }),
  );
  const settled = await Promise.allSettled(workers);
  await writing.catch(() => {});
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) throw failure.reason;
  options.signal?.throwIfAborted();
  await writing;

  const end = await client.listTransactions({ gte: window.from, lt: window.to, limit: 1, offset: 0 });
  return { kind: "walked", countAtStart: first.count, countAtEnd: end.count, pageCountsAgree, ids, pages, rows, maxLimit: first.maxLimit };
}
