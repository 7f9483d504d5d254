import type { GenerectClient } from "../api/client.js";
import type { Transaction, TransactionsPage } from "../api/schema.js";
import type { Micros } from "../time.js";
import { walkInstant } from "./instant.js";
import {
  entries,
  guardInside,
  guardOffset,
  type Milestones,
  maxBatchRows,
  pageSizeOf,
  type ReceivedRejected,
  type Walk,
  type WalkOptions,
  type WalkResult,
} from "./pages.js";
import { isInstant, type Window } from "./plan.js";
import { WriteBehind } from "./write-behind.js";

/** Pages fetched past the planned end before a walk whose end keeps receding gives up (reported incomplete). */
const maxExtraPages = 1000;

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
export function walkWindow(client: GenerectClient, window: Window, options: WalkOptions): Promise<WalkResult> {
  return startWalk(client, window, options).result;
}

/** Starts a walk of `window` (see walkWindow) and tells its milestones as they pass. */
export function startWalk(client: GenerectClient, window: Window, options: WalkOptions): Walk {
  let counted!: Milestones["counted"];
  let tail!: Milestones["tail"];
  const walk: Omit<Walk, "result"> = {
    counted: new Promise((resolve) => (counted = (count, maxLimit) => resolve({ count, maxLimit }))),
    tail: new Promise((resolve) => (tail = resolve)),
  };
  const milestones = { counted, tail };
  const result = isInstant(window) ? walkInstant(client, window, options, milestones) : walkPaged(client, window, options, milestones);
  return { ...walk, result };
}

async function walkPaged(client: GenerectClient, window: Window, options: WalkOptions, milestones: Milestones): Promise<WalkResult> {
  const limit = options.limit ?? ((request) => request());
  const fetchPage = (limitRows: number, offset: number) =>
    limit(() => client.listTransactions({ gte: window.from, lt: window.to, limit: limitRows, offset }));
  const first = options.firstPage ?? (await fetchPage(options.pageSize, 0));
  options.signal?.throwIfAborted(); // cancelled while the first page was in flight
  guardOffset(first, 0, window);
  if (options.maxRows !== undefined && first.count > options.maxRows) return { kind: "split", count: first.count };
  guardInside(first, window, 0);
  milestones.counted(first.count, first.maxLimit);

  const pageSize = pageSizeOf(first, options.pageSize);
  const offsets: number[] = [];
  if (entries(first) === pageSize) for (let offset = pageSize; offset < first.count; offset += pageSize) offsets.push(offset);

  let next = 0;
  let inTail = false;
  const tail = () => {
    if (inTail || offsets.length - next > options.concurrency) return;
    inTail = true;
    milestones.tail();
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
  // No write may still be running when the caller rolls back: one left running would go on with
  // the batches queued after it on a connection back in the pool, outside any transaction. That
  // holds for a stop that came after the last page as for a failure (test/sync/walk-stop.test.ts).
  if (failure || options.signal?.aborted) {
    await writer.settle();
    if (failure) throw failure.reason;
    options.signal?.throwIfAborted();
  }

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
    kind: "walked",
    countAtStart: first.count,
    countAtEnd: end.count,
    pageCountsAgree,
    complete,
    ids,
    unidentified,
    rejected,
    listed,
    pages,
    rows,
    pageSize,
    straddling: cover(spans).straddling,
  };
}
