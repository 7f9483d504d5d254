import type { GenerectClient } from "../api/client.js";
import type { Transaction, TransactionsPage } from "../api/schema.js";
import { GuardError } from "../errors.js";
import { formatInstant } from "../time.js";
import {
  describeWindow,
  entries,
  guardInside,
  guardOffset,
  type Milestones,
  maxBatchRows,
  pageSizeOf,
  type ReceivedRejected,
  type WalkOptions,
  type WalkResult,
} from "./pages.js";
import type { Window } from "./plan.js";
import { WriteBehind } from "./write-behind.js";

/**
 * A part of one instant's rows, as filters the API documents: [gte, lt) ranges on amount and
 * after_balance, exact balance_type and status. A range matches no row without a value (SQL NULL):
 * a range on amount and its complement cover every row, on after_balance only the rows that have one.
 */
interface Part {
  amount: Range;
  afterBalance: Range;
  balanceType?: string;
  status?: string;
}

interface Range {
  gte?: string;
  lt?: string;
}

const numeric = [
  { key: "amount", filter: "amount", value: (row: Transaction) => row.amount },
  { key: "afterBalance", filter: "after_balance", value: (row: Transaction) => row.afterBalance },
] as const;

const exact = [
  { key: "balanceType", filter: "balance_type", value: (row: Transaction) => row.balanceType },
  { key: "status", filter: "status", value: (row: Transaction) => row.status },
] as const;

function filtersOf(part: Part): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const { key, filter } of numeric) {
    if (part[key].gte !== undefined) filters[`${filter}__gte`] = part[key].gte;
    if (part[key].lt !== undefined) filters[`${filter}__lt`] = part[key].lt;
  }
  for (const { key, filter } of exact) if (part[key] !== undefined) filters[filter] = part[key];
  return filters;
}

function describePart(part: Part): string {
  const filters = Object.entries(filtersOf(part)).map(([k, v]) => `${k}=${v}`);
  return filters.length ? filters.join("&") : "no other filter";
}

/**
 * Every row of a part must match its filters: a server that drops a filter it cannot read answers
 * with unfiltered rows, and reading a part's rows as the whole part would then double count some
 * and, worse, take a partial answer for a complete one.
 */
function guardPart(page: TransactionsPage, window: Window, part: Part): void {
  guardInside(page, window, 0);
  for (const row of page.rows) {
    const wrong =
      numeric.find(({ key, value }) => {
        const { gte, lt } = part[key];
        if (gte === undefined && lt === undefined) return false;
        const text = value(row);
        if (text === null) return true; // no value matches a range
        const v = Number(text);
        return (gte !== undefined && v < Number(gte)) || (lt !== undefined && v >= Number(lt));
      })?.filter ?? exact.find(({ key, value }) => part[key] !== undefined && value(row) !== part[key])?.filter;
    if (wrong) {
      throw new GuardError(
        "API_FILTER_IGNORED",
        `the API returned transaction ${row.id} for ${describePart(part)} in window ${describeWindow(window)}, which it does not match: ` +
          `the server ignored the ${wrong} filter; nothing was committed for this window`,
      );
    }
  }
}

/**
 * What the parts of a split cover: every row of the part split (amount ranges: every row has an
 * amount), only the rows that have the value (after_balance ranges: a range matches no row without
 * one, and the page may show none of them), or only the values seen (balance_type, status).
 */
type Covers = "every row" | "rows with a value" | "values seen";

interface Split {
  parts: Part[];
  covers: Covers;
}

/**
 * The ways to split `part`, in the order to try them, by the filters on which `rows` (a full page
 * of it) differ: amount ranges, after_balance ranges (not when a row of the page has none: the
 * parts would miss it), then the values seen of the first exact filter on which they differ.
 */
function splitsOf(part: Part, rows: Transaction[]): Split[] {
  const splits: Split[] = [];
  for (const { key, value } of numeric) {
    if (rows.some((row) => value(row) === null)) continue;
    const values = [...new Map(rows.map((row) => [Number(value(row)), value(row)!] as const)).entries()].sort((a, b) => a[0] - b[0]);
    if (values.length < 2) continue;
    // The middle value seen: rows below it and rows from it on are both non-empty.
    const pivot = values[Math.floor(values.length / 2)]![1];
    const parts = [
      { ...part, [key]: { ...part[key], lt: pivot } },
      { ...part, [key]: { ...part[key], gte: pivot } },
    ];
    splits.push({ parts, covers: key === "amount" ? "every row" : "rows with a value" });
  }
  for (const { key, value } of exact) {
    if (part[key] !== undefined) continue;
    const values = [...new Set(rows.map(value))];
    if (values.length < 2) continue;
    splits.push({ parts: values.map((v) => ({ ...part, [key]: v })), covers: "values seen" });
    break;
  }
  return splits;
}

/** Pages read for a part (each with its offset), the entries they hold, and whether they hold the whole part. */
interface PartRead {
  pages: { page: TransactionsPage; offset: number }[];
  held: number;
  complete: boolean;
}

/**
 * Walks a window of one microsecond, whose rows all share one created_at. Paging through them
 * relies on the server ordering rows of one instant the same way on every request, which nothing
 * documents: a server that does not may return some rows twice and others never, on every walk.
 * So no offset beyond 0 is ever read here. When the instant holds more rows than one page, its
 * rows are split by the other documented filters (amount ranges, whose two halves cover every row;
 * after_balance ranges, which cover the rows that have one; then balance_type and status values
 * seen) until every part fits in one page, and the parts are read whole; rows alike in every
 * filter are paged as a last resort. The parts of an after_balance split must add up to the count
 * of the part split, else the rows they missed (without after_balance) are read by the next way
 * to split it, or paged; the parts of a split by exact values likewise, else the walk is reported
 * incomplete (a value no page showed may hold the rest). A part's pages are taken once it is read
 * whole, so an instant's rows are held in memory until then. A closing request past every row
 * read re-reads the count, as a paged walk's does.
 */
export async function walkInstant(
  client: GenerectClient,
  window: Window,
  options: WalkOptions,
  milestones: Milestones,
): Promise<WalkResult> {
  const limit = options.limit ?? ((request) => request());
  const fetchPart = (part: Part, limitRows: number, offset: number) =>
    limit(() => client.listTransactions({ gte: window.from, lt: window.to, limit: limitRows, offset, filters: filtersOf(part) }));
  const whole: Part = { amount: {}, afterBalance: {} };
  const first = await fetchPart(whole, options.pageSize, 0);
  options.signal?.throwIfAborted();
  guardOffset(first, 0, window);
  guardPart(first, window, whole);
  milestones.counted(first.count, first.maxLimit);
  milestones.tail(); // no long last round here: the next window may start now

  const ids = new Set<string>();
  const rejected: ReceivedRejected[] = [];
  let unidentified = 0;
  let listed = 0;
  let rows = 0;
  let pages = 0;
  let complete = true;
  const pageSize = pageSizeOf(first, options.pageSize);
  const writer = new WriteBehind(options.sink, Math.max(2 * options.concurrency, Math.ceil((2 * maxBatchRows) / pageSize)), maxBatchRows);

  /** Counts a page's rows and rejected rows as received (a rejected row's readable id is listed). */
  const take = (page: TransactionsPage, offset: number) => {
    for (const row of page.rows) ids.add(row.id);
    for (const row of page.rejected) {
      if (row.id === null) unidentified += 1;
      else ids.add(row.id);
      rejected.push({ ...row, offset });
    }
    rows += page.rows.length;
    listed += entries(page);
  };

  /**
   * Reads `part` whole, splitting it while a page cannot hold it. Nothing is taken here: a split
   * whose parts do not add up is set aside for the next way to read the part.
   */
  const read = async (part: Part, known?: TransactionsPage): Promise<PartRead> => {
    options.signal?.throwIfAborted();
    const page = known ?? (await fetchPart(part, pageSize, 0));
    guardOffset(page, 0, window);
    guardPart(page, window, part);
    pages += 1;
    if (entries(page) < pageSize) return { pages: [{ page, offset: 0 }], held: entries(page), complete: true };
    for (const split of splitsOf(part, page.rows)) {
      const reads: PartRead[] = [];
      for (const p of split.parts) reads.push(await read(p));
      const held = reads.reduce((n, r) => n + r.held, 0);
      const parts = { pages: reads.flatMap((r) => r.pages), held, complete: reads.every((r) => r.complete) };
      if (split.covers === "every row" || held === page.count) return parts;
      // A value no page showed may hold the rest: the walk is incomplete, and is read again.
      if (split.covers === "values seen") return { ...parts, complete: false };
      // Rows without after_balance, which no range matches: the next way to split the part reads them.
    }
    return pageThrough(part, page);
  };

  /**
   * The last resort, for rows alike in every filter the API offers: paging, which holds only if
   * the server orders them the same way on every request. A row seen twice says it does not.
   */
  const pageThrough = async (part: Part, firstPage: TransactionsPage): Promise<PartRead> => {
    const seen = new Set<string>();
    let unreadable = 0;
    const collected: PartRead["pages"] = [];
    let received = 0;
    for (let page = firstPage, offset = 0; ; ) {
      collected.push({ page, offset });
      for (const row of page.rows) seen.add(row.id);
      for (const row of page.rejected) {
        if (row.id === null) unreadable += 1;
        else seen.add(row.id);
      }
      received += entries(page);
      if (entries(page) < pageSize) break;
      offset += entries(page);
      page = await fetchPart(part, pageSize, offset);
      guardOffset(page, offset, window);
      guardPart(page, window, part);
      pages += 1;
    }
    if (seen.size + unreadable !== received) {
      throw new GuardError(
        "WINDOW_UNSETTLED",
        `more than ${pageSize} transactions share created_at ${formatInstant(window.from)} and every other filter the API offers ` +
          `(${describePart(part)}, and alike in amount, after_balance or its absence, balance_type and status), and paging through them returned ` +
          `some twice: the server orders them differently on each request, so they cannot be read whole; nothing was committed for this window`,
      );
    }
    return { pages: collected, held: received, complete: true };
  };

  let end: TransactionsPage;
  try {
    const instant = await read(whole, first);
    for (const { page, offset } of instant.pages) {
      take(page, offset);
      await writer.push(page.rows);
    }
    if (!instant.complete) complete = false;
    // The closing request, past every row read: empty whatever the order, and its count tells
    // whether a row came or went while the parts were read. Rows here: the end was not reached
    // (a short page was a clamp, or rows arrived).
    [end] = await Promise.all([fetchPart(whole, pageSize, instant.held), writer.flush()]);
    guardOffset(end, instant.held, window);
    guardPart(end, window, whole);
    if (entries(end) > 0) complete = false;
  } catch (error) {
    await writer.settle();
    throw error;
  }
  return {
    kind: "walked",
    countAtStart: first.count,
    countAtEnd: end.count,
    pageCountsAgree: true,
    complete,
    ids,
    unidentified,
    rejected,
    listed,
    pages,
    rows,
    pageSize,
    straddling: [],
  };
}
