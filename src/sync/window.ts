import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import { formatInstant, toPgTimestamp } from "../api/time.js";
import { GuardError } from "../errors.js";
import { arrayLiteral } from "../db/array-literal.js";
import { inTransaction } from "../db/pool.js";
import { type LoadCounts, loadPage } from "./load.js";
import { type Window, defaultMaxRowsPerWindow, splitWindow } from "./plan.js";
import { type WritePath, addWindowCountsSql, advanceWatermarkSql, windowHeldSql, writePath } from "./sql.js";
import type { PrefetchedWalk } from "./prefetch.js";
import { quarantineRows, resolveQuarantined } from "./quarantine.js";
import { MovedBuckets, refreshRollups } from "./rollups.js";
import { type WalkOptions, type WalkResult, walkWindow } from "./walk.js";

export const transactionsStream = "transactions";

export interface WindowContext {
  pool: pg.Pool;
  client: GenerectClient;
  account: string;
  runId: string;
  seenAt: Date;
  /** @default writePath */
  writePath?: WritePath;
  concurrency: number;
  signal?: AbortSignal;
  /** Learned from the server's max_limit on the first page; shared by the run's windows. */
  pageSize: { value: number };
  /** Walks of one window before giving up on counts that keep moving. @default 3 */
  maxWalks?: number;
  /** A window counting more rows than this is halved first, so one transaction stays bounded. @default defaultMaxRowsPerWindow */
  maxRowsPerWindow?: number;
  onPage?: (rows: number, pages: number) => void;
  /** Shared by the run's walks: at most `concurrency` requests in flight. */
  limit?: WalkOptions["limit"];
  /** The window's first walk counted `count` rows and will not split (the next window is sized by it). */
  onCounted?: (window: Window, count: number) => void;
  /** The window's first walk is in its last round of requests: the next window may start its walk. */
  onTail?: () => void;
}

export interface WindowStats extends LoadCounts {
  window: Window;
  walks: number;
  pages: number;
  rows: number;
  deleted: number;
  /** Rows that cannot be transactions, kept in quarantined_rows. */
  rejected: number;
  /** Their reason codes, one per row. */
  rejectedCodes: string[];
  count: number;
}

export type WindowOutcome =
  | { kind: "split"; reason: "too large" | "unsettled"; count: number }
  | { kind: "committed"; stats: WindowStats };

/**
 * One window, one database transaction: every page is written as it arrives, the window is
 * checked (every row inside it, distinct ids == count before and after), rows the API no longer
 * lists are marked deleted, the rollups of the buckets it changed are recomputed, and the watermark moves to the window's end before COMMIT.
 * Any failure rolls the whole window back, so the watermark never runs ahead of the data.
 */
export async function syncWindow(context: WindowContext, window: Window, prefetched?: PrefetchedWalk): Promise<WindowOutcome> {
  try {
    return await walkAndCommit(context, window, prefetched);
  } catch (error) {
    await prefetched?.cancel(error); // a walk never handed its writer would wait for it forever
    if (error instanceof HalveUnsettled) return { kind: "split", reason: "unsettled", count: error.count };
    throw error;
  }
}

/**
 * A walk of a large window that did not settle: rolled back and walked again as two halves. Each
 * walk of a window is as likely to meet a row moving as it has requests, so a window of 100 pages
 * in a ledger that moves now and then could spend its three walks without settling where its
 * halves settle; one of at most `pagesToHalve` pages is simply walked again.
 */
class HalveUnsettled extends Error {
  constructor(readonly count: number) {
    super("window did not settle: halved");
  }
}

const pagesToHalve = 10;

/** The options of a window's walk; the first walk alone may ask for a split, size the next window and start it. */
export function walkOptionsFor(
  context: Pick<WindowContext, "pageSize" | "concurrency" | "signal" | "limit" | "maxRowsPerWindow" | "onCounted" | "onTail">,
  window: Window,
  walk: number,
): Omit<WalkOptions, "sink"> {
  const canHalve = splitWindow(window) !== undefined;
  const maxRows = context.maxRowsPerWindow ?? defaultMaxRowsPerWindow;
  return {
    pageSize: context.pageSize.value,
    concurrency: context.concurrency,
    signal: context.signal,
    limit: context.limit,
    tooLarge: walk === 1 && canHalve ? (count) => count > maxRows : undefined,
    onCounted: (count, maxLimit) => {
      if (maxLimit) context.pageSize.value = maxLimit;
      if (walk === 1) context.onCounted?.(window, count);
    },
    onTail: walk === 1 ? context.onTail : undefined,
  };
}

async function walkAndCommit(context: WindowContext, window: Window, prefetched: PrefetchedWalk | undefined): Promise<WindowOutcome> {
  const maxWalks = context.maxWalks ?? 3;
  const canHalve = splitWindow(window) !== undefined;

  return inTransaction(context.pool, async (db) => {
    const from = toPgTimestamp(window.from);
    const to = toPgTimestamp(window.to);
    const { held } = (await db.query<{ held: boolean }>(windowHeldSql, [context.account, from, to])).rows[0]!;
    let fresh = !held; // a backfill: nothing to compare against until this window's first walk wrote it
    const totals = { inserted: 0, updated: 0, unchanged: 0, pages: 0, rows: 0 };
    const rollups = (context.writePath ?? writePath).rollups !== false;
    const moved = new MovedBuckets();
    const sink = async (rows: Parameters<typeof loadPage>[1], pages: number) => {
      const counts = await loadPage(db, rows, context, fresh, rollups ? (ids) => moved.record(db, ids, context.account, window) : undefined);
      totals.inserted += counts.inserted;
      totals.updated += counts.updated;
      totals.unchanged += counts.unchanged;
      context.onPage?.(rows.length, pages);
    };

    for (let walk = 1; walk <= maxWalks; walk++) {
      let result: WalkResult;
      if (walk === 1 && prefetched) {
        prefetched.open(sink);
        result = await prefetched.result;
      } else {
        result = await walkWindow(context.client, window, { ...walkOptionsFor(context, window, walk), sink });
      }
      if (result.kind === "split") return { kind: "split", reason: "too large", count: result.count };
      fresh = false;
      totals.pages += result.pages;
      totals.rows += result.rows;
      const settled = result.countAtStart === result.countAtEnd && result.pageCountsAgree && result.ids.size + result.unidentified === result.countAtEnd;
      if (!settled) {
        if (walk === maxWalks) {
          throw new GuardError(
            "WINDOW_UNSETTLED",
            `window [${formatInstant(window.from)}, ${formatInstant(window.to)}) did not settle after ${maxWalks} walks: ` +
              `the API counted ${result.countAtStart} then ${result.countAtEnd} rows, ${result.ids.size} distinct ids (and ${result.unidentified} rows without a readable id) were received; nothing was committed for this window`,
          );
        }
        if (canHalve && result.countAtEnd > pagesToHalve * context.pageSize.value) throw new HalveUnsettled(result.countAtEnd);
        continue;
      }

      const ids = arrayLiteral([...result.ids]);
      // A listed row without a readable id may be any row held in the window: no deletion is
      // proven here until the API sends it readable again.
      const deleted = result.unidentified > 0
        ? { rows: [{ deleted: 0 }] }
        : await db.query<{ deleted: number }>((context.writePath ?? writePath).markDeleted, [context.account, from, to, ids, context.seenAt, context.runId]);
      if (rollups) await refreshRollups(db, context.account, window, moved);
      await quarantineRows(db, context, window, result.rejected);
      await resolveQuarantined(db, context, ids, result.rejected);
      await db.query(advanceWatermarkSql, [context.account, transactionsStream, to, context.runId]);
      const stats: WindowStats = {
        window, walks: walk, count: result.countAtEnd, deleted: deleted.rows[0]!.deleted, rejected: result.rejected.length,
        rejectedCodes: result.rejected.map((r) => r.code), ...totals,
      };
      await db.query(addWindowCountsSql, [
        context.runId, stats.pages, stats.rows, stats.inserted, stats.updated, stats.unchanged, stats.deleted, to, stats.rejected,
      ]);
      return { kind: "committed", stats };
    }
    throw new Error("unreachable");
  });
}
