// The vocabulary of a walk: its options, what it reports, and the checks every page passes
// (shared by the paged walk, walk.ts, and the walk of one instant, instant.ts).
import type { RejectedRow, Transaction, TransactionsPage } from "../api/schema.js";
import { ApiResponseError, GuardError } from "../errors.js";
import { formatInstant, type Micros } from "../time.js";
import type { Window } from "./plan.js";

export interface WalkOptions {
  /** Page size to ask for; the server's answer (`limit`, `max_limit`) can lower or raise it. */
  pageSize: number;
  concurrency: number;
  signal?: AbortSignal;
  /** Called with the rows of one or more pages, one call at a time, in the order pages arrive. */
  sink: (rows: Transaction[], pages: number) => Promise<void>;
  /** A window counting more rows stops its walk before anything is written (WalkResult `split`). @default no limit */
  maxRows?: number;
  /**
   * Runs each request; one limiter shared by the windows of a run keeps `concurrency` the number
   * of requests in flight even while two windows overlap.
   */
  limit?: <T>(request: () => Promise<T>) => Promise<T>;
  /**
   * Page 0 of this window as the server already answered it for `pageSize` (a first run's look at
   * its whole history, first-run.ts): the walk starts from it, checked like any page, instead of
   * asking again.
   */
  firstPage?: TransactionsPage;
}

/** A rejected row and the offset of the page that held it. */
export interface ReceivedRejected extends RejectedRow {
  offset: number;
}

/** What a walk reports as it goes, for whoever plans the windows after it (see pipeline.ts). */
export interface Walk {
  result: Promise<WalkResult>;
  /**
   * Settles once the first page is in and the window is not too large, with its count and the
   * server's max_limit. Never settles for a walk that splits or fails before that.
   */
  counted: Promise<{ count: number; maxLimit: number | undefined }>;
  /**
   * Settles once at most `concurrency` pages are left to request: the walk is in its last round,
   * and the next window's walk may start and take over the request slots this one frees.
   */
  tail: Promise<void>;
}

/** How a walk's implementation reports its milestones to `startWalk`. */
export interface Milestones {
  counted(count: number, maxLimit: number | undefined): void;
  tail(): void;
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
    throw new ApiResponseError(
      `the API answered offset ${page.offset} when asked for offset ${offset} in window ${describeWindow(window)}`,
    );
  }
}

/** Rows per write: a few pages in one statement; bigger batches gain little and hold more memory. */
export const maxBatchRows = 1000;

/** Entries of a page: transactions and rows that cannot be ones; the API lists both, and paging counts both. */
export function entries(page: TransactionsPage): number {
  return page.rows.length + page.rejected.length;
}

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
