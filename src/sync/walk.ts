import type { GenerectClient } from "../api/client.js";
import type { RejectedRow, Transaction, TransactionsPage } from "../api/schema.js";
import { type Micros, formatInstant } from "../time.js";
import { ApiResponseError, GuardError } from "../errors.js";
import { walkInstant } from "./instant.js";
import { type Window, isInstant } from "./plan.js";
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
      /** `count` on the first page and on the closing request (the empty page past the last row). */
      countAtStart: number;
      countAtEnd: number;
      /**
       * Every page answered the first page's count. An insert and a delete during one walk leave
       * the counts before and after equal while shifting offsets (a row skipped, a deleted one
       * received); the pages read in between see the count move.
       */
      pageCountsAgree: boolean;
      /**
       * The walk saw its end: its pages covered offsets 0..n without a gap and the request at offset
       * n came back empty. This, not `count`, is what says no row was left unread.
       */
      complete: boolean;
      /**
       * Distinct ids received, rejected rows' readable ids included (the API lists them: their
       * stored version must not be marked deleted); with `unidentified`, equal to both counts when
       * nothing moved during the walk and the count is true.
       */
      ids: Set<string>;
      /** Rejected rows without a readable id: listed by the API, but no id to tell them apart. */
      unidentified: number;
      /** Rows of the walk that cannot be transactions, for the quarantine. */
      rejected: ReceivedRejected[];
      pages: number;
      /** Valid rows received, repeats included. */
      rows: number;
      /** Entries received (rows and rejected rows), repeats included: more than `ids.size + unidentified` when rows shifted under the walk. */
      listed: number;
      /** Rows per page the walk asked for and counted on: what a full page actually returned. */
      pageSize: number;
      /**
       * created_at values whose rows were split across two pages. Paging through them relies on the
       * server's order among rows of one instant, which nothing documents (see window.ts).
       */
      straddling: Micros[];
    };

export function describeWindow(window: Window): string {
  return `[${formatInstant(window.from)}, ${formatInstant(window.to)})`;
}

/**
 * A row outside the window means the server dropped the created_at filter (it does that, silently,
 * with values it cannot read). Writing such rows would be harmless, but advancing the watermark on
 * the strength of an unfiltered answer would not.
 */
export function guardInside(page: TransactionsPage, window: Window, offset: number): void {
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

export function guardOffset(page: TransactionsPage, offset: number, window: Window): void {
  if (page.offset !== undefined && page.offset !== offset) {
    throw new ApiResponseError(`the API answered offset ${page.offset} when asked for offset ${offset} in window ${describeWindow(window)}`);
  }
}

/** Rows per write: a few pages in one statement; bigger batches gain little and hold more memory. */
export const maxBatchRows = 1000;

/** Entries of a page: transactions and rows that cannot be ones; the API lists both, and paging counts both. */
export function entries(page: TransactionsPage): number {
  return page.rows.length + page.rejected.length;
}

/** Pages fetched past the planned end before a walk whose end keeps receding gives up (reported incomplete). */
const maxExtraPages = 1000;

/**
 * The page size to count on, from the first page: a full page (as many rows as asked, or more)
 * sets it; a short one whose count says more rows exist is a server clamping `limit` without
 * saying so (its envelope still answers the limit asked), and its length is the real page size.
 * Otherwise the short page is presumed to be the end, which the closing request then proves.
 */
export function pageSizeOf(first: TransactionsPage, asked: number): number {
  const received = entries(first);
  if (received >= asked) return received;
  return received > 0 && first.count > received ? received : asked;
}

interface Span {
  offset: number;
  rows: number;
  first: Transaction | undefined;
  last: Transaction | undefined;
}

/**
 * Where the rows received end, reading pages from offset 0: a page that starts past that end and
 * holds rows means a page before it came back short while rows lay beyond it (the list moved).
 * Also the instants split across two pages.
 */
function cover(spans: Span[]): { end: number; gap: boolean; straddling: Micros[] } {
  const sorted = [...spans].sort((a, b) => a.offset - b.offset);
  let end = 0;
  let gap = false;
  const straddling = new Set<Micros>();
  for (const [i, span] of sorted.entries()) {
    if (span.offset > end) {
      if (span.rows > 0) gap = true;
      continue;
    }
    end = Math.max(end, span.offset + span.rows);
    const before = sorted[i - 1];
    // Two rows of one instant on either side of a page boundary (one row seen twice is a shift instead).
    const [last, next] = [before?.last, span.first];
    if (before && before.offset + before.rows === span.offset && last && next && last.createdAt === next.createdAt && last.id !== next.id) {
      straddling.add(next.createdAt);
    }
  }
  return { end, gap, straddling: [...straddling] };
}

/**
 * Reads every page of one window: the first page alone (it tells the count and the page size),
 * then the offsets the count suggests with up to `concurrency` requests in flight, then the
 * closing request at the offset just past the rows received: an empty answer proves the end (and
 * re-reads the count), rows mean the count was short or rows arrived, and the walk goes on from
 * there. Offsets are computed, never taken from `next`: the API's links point at another host.
 * Pages are written behind the fetches (see WriteBehind), so memory holds at most the pages in
 * flight plus two batches' worth waiting for the database, whatever the size of the window.
 * A window of one microsecond cannot rely on paging (see instant.ts).
 */
export async function walkWindow(client: GenerectClient, window: Window, options: WalkOptions): Promise<WalkResult> {
  if (isInstant(window)) return walkInstant(client, window, options);
  const limit = options.limit ?? ((request) => request());
  const fetchPage = (limitRows: number, offset: number) =>
    limit(() => client.listTransactions({ gte: window.from, lt: window.to, limit: limitRows, offset }));
  const first = await fetchPage(options.pageSize, 0);
  options.signal?.throwIfAborted(); // cancelled while the first page was in flight
  guardOffset(first, 0, window);
  if (options.tooLarge?.(first.count)) return { kind: "split", count: first.count };
  guardInside(first, window, 0);
  options.onCounted?.(first.count, first.maxLimit);

  const pageSize = pageSizeOf(first, options.pageSize);
  const offsets: number[] = [];
  if (entries(first) === pageSize) for (let offset = pageSize; offset < first.count; offset += pageSize) offsets.push(offset);

  let next = 0;
  let inTail = false;
  const tail = () => {
    if (inTail || offsets.length - next > options.concurrency) return;
    inTail = true;
    options.onTail?.();
  };
  tail(); // a window of one round is in its tail from the start

  const ids = new Set<string>();
  const spans: Span[] = [];
  let rows = 0;
  let pages = 0;
  let pageCountsAgree = true;
  // Two batches may wait (20 pages of 100 rows, a few MB): one is written while the next fills, and
  // a walk started ahead, whose writer waits for the window before to commit, keeps fetching
  // through that window's closing round trips instead of leaving the request slots idle.
  const writer = new WriteBehind(options.sink, Math.max(2 * options.concurrency, Math.ceil((2 * maxBatchRows) / pageSize)), maxBatchRows);
  const rejected: ReceivedRejected[] = [];
  let unidentified = 0;
  let listed = 0;
  const received = (page: TransactionsPage, offset: number) => {
    for (const row of page.rows) ids.add(row.id);
    for (const row of page.rejected) {
      if (row.id === null) unidentified += 1;
      else ids.add(row.id);
      rejected.push({ ...row, offset });
    }
    listed += entries(page);
    spans.push({ offset, rows: entries(page), first: page.rows[0], last: page.rows.at(-1) });
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

  // The closing request, at the first offset past the rows received, runs while the last pages
  // are still being written. Rows there mean the walk has not reached the end yet.
  const covered = cover(spans);
  let complete = !covered.gap;
  const close = async (): Promise<TransactionsPage> => {
    for (let end = covered.end, extra = 0; ; extra++) {
      const page = await fetchPage(pageSize, end);
      options.signal?.throwIfAborted();
      guardOffset(page, end, window);
      guardInside(page, window, end);
      if (entries(page) === 0) return page;
      if (page.count !== first.count) pageCountsAgree = false;
      const known = ids.size + unidentified;
      await received(page, end);
      if (ids.size + unidentified === known || extra >= maxExtraPages) {
        complete = false; // the same rows again: the end cannot be reached this walk
        return page;
      }
      end += entries(page);
    }
  };
  const [end] = await Promise.all([close(), writer.flush()]).catch(async (error: unknown) => {
    await writer.settle();
    throw error;
  });
  await writer.flush(); // rows the closing requests found
  return {
    kind: "walked", countAtStart: first.count, countAtEnd: end.count, pageCountsAgree, complete, ids, unidentified, rejected, listed,
    pages, rows, pageSize, straddling: cover(spans).straddling,
  };
}
