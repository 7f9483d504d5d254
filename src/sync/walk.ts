import type { GenerectClient } from "../api/client.js";
import type { RejectedRow, Transaction, TransactionsPage } from "../api/schema.js";
import { formatInstant } from "../api/time.js";
import { ApiResponseError, GuardError } from "../errors.js";
import type { Window } from "./plan.js";
import { WriteBehind } from "./write-behind.js";

export interface WalkOptions {
  /** Page size to ask for; the server's answer (`limit`, `max_limit`) can lower or raise it. */
  pageSize: number;
  concurrency: number;
  signal?: AbortSignal;
  /** Called with the rows of one or more pages, one call at a time, in the order pages arrive. */
  sink: (rows: Transaction[], pages: number) => Promise<void>;
  /** Asked once the window's count is known; true stops the walk before anything is written. */
  tooLarge?: (count: number) => boolean;
  /** Called once the first page is in and the window is not too large, with its count and the server's max_limit. */
  onCounted?: (count: number, maxLimit: number | undefined) => void;
  /**
   * Called once, when at most `concurrency` pages are left to request: the walk is in its last
   * round, and the next window's walk may start and take over the request slots this one frees.
   */
  onTail?: () => void;
  /**
   * Runs each request; one limiter shared by the windows of a run keeps `concurrency` the number
   * of requests in flight even while two windows overlap.
   */
  limit?: <T>(request: () => Promise<T>) => Promise<T>;
}

/** A rejected row and the offset of the page that held it. */
export interface ReceivedRejected extends RejectedRow {
  offset: number;
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
      /**
       * Distinct ids received, rejected rows' readable ids included (the API lists them: their
       * stored version must not be marked deleted); with `unidentified`, equal to both counts when
       * nothing moved during the walk.
       */
      ids: Set<string>;
      /** Rejected rows without a readable id: listed by the API, but no id to tell them apart. */
      unidentified: number;
      /** Rows of the walk that cannot be transactions, for the quarantine. */
      rejected: ReceivedRejected[];
      pages: number;
      rows: number;
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

/** Rows per write: a few pages in one statement; bigger batches gain little and hold more memory. */
const maxBatchRows = 1000;

/**
 * Reads every page of one window: the first page alone (it tells the count and the page size),
 * then the remaining offsets with up to `concurrency` requests in flight. Offsets are computed,
 * never taken from `next`: the API's links point at another host. Pages are written behind the
 * fetches (see WriteBehind), so memory holds at most the pages in flight plus two batches' worth
 * waiting for the database, whatever the size of the window.
 */
export async function walkWindow(client: GenerectClient, window: Window, options: WalkOptions): Promise<WalkResult> {
  const limit = options.limit ?? ((request) => request());
  const fetchPage = (limitRows: number, offset: number) =>
    limit(() => client.listTransactions({ gte: window.from, lt: window.to, limit: limitRows, offset }));
  const first = await fetchPage(options.pageSize, 0);
  options.signal?.throwIfAborted(); // cancelled while the first page was in flight
  guardOffset(first, 0, window);
  if (options.tooLarge?.(first.count)) return { kind: "split", count: first.count };
  guardInside(first, window, 0);
  options.onCounted?.(first.count, first.maxLimit);

  const firstSize = first.limit ?? options.pageSize;
  const pageSize = first.maxLimit ?? firstSize;
  const offsets: number[] = [];
  for (let offset = firstSize; offset < first.count; offset += pageSize) offsets.push(offset);

  let next = 0;
  let inTail = false;
  const tail = () => {
    if (inTail || offsets.length - next > options.concurrency) return;
    inTail = true;
    options.onTail?.();
  };
  tail(); // a window of one round is in its tail from the start

  const ids = new Set<string>();
  let rows = 0;
  let pages = 0;
  let pageCountsAgree = true;
  // Two batches may wait (20 pages of 100 rows, a few MB): one is written while the next fills, and
  // a walk started ahead, whose writer waits for the window before to commit, keeps fetching
  // through that window's closing round trips instead of leaving the request slots idle.
  const writer = new WriteBehind(options.sink, Math.max(2 * options.concurrency, Math.ceil((2 * maxBatchRows) / pageSize)), maxBatchRows);
  const rejected: ReceivedRejected[] = [];
  let unidentified = 0;
  const received = (page: TransactionsPage, offset: number) => {
    for (const row of page.rows) ids.add(row.id);
    for (const row of page.rejected) {
      if (row.id === null) unidentified += 1;
      else ids.add(row.id);
      rejected.push({ ...row, offset });
    }
    rows += page.rows.length;
    pages += 1;
    return writer.push(page.rows);
  };

  // A failed page or write stops the others: in-flight requests are aborted and no new page starts.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const worker = async () => {
    while (next < offsets.length && !signal.aborted) {
      const offset = offsets[next++]!;
      tail();
      const page = await fetchPage(pageSize, offset);
      guardOffset(page, offset, window);
      guardInside(page, window, offset);
      if (page.count !== first.count) pageCountsAgree = false;
      await received(page, offset);
    }
  };
  const stopOnError = (error: unknown) => {
    stop.abort(error);
    throw error;
  };
  const settled = await Promise.allSettled([
    received(first, 0).catch(stopOnError),
    ...Array.from({ length: Math.min(options.concurrency, offsets.length) }, () => worker().catch(stopOnError)),
  ]);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) {
    await writer.settle(); // no write may still be running when the caller rolls back
    throw failure.reason;
  }
  options.signal?.throwIfAborted();

  // The count is read again while the last pages are still being written.
  const [end] = await Promise.all([
    fetchPage(1, 0),
    writer.flush(),
  ]).catch(async (error: unknown) => {
    await writer.settle();
    throw error;
  });
  return { kind: "walked", countAtStart: first.count, countAtEnd: end.count, pageCountsAgree, ids, unidentified, rejected, pages, rows };
}
