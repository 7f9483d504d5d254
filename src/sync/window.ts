import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import { formatInstant, toPgTimestamp } from "../api/time.js";
import { GuardError } from "../errors.js";
import { inTransaction } from "../db/pool.js";
import { type LoadCounts, loadPage } from "./load.js";
import { type Window, splitWindow } from "./plan.js";
import { addWindowCountsSql, advanceWatermarkSql, markDeletedSql } from "./sql.js";
import { walkWindow } from "./walk.js";

export const transactionsStream = "transactions";

export interface WindowContext {
  pool: pg.Pool;
  client: GenerectClient;
  account: string;
  runId: string;
  seenAt: Date;
  concurrency: number;
  signal?: AbortSignal;
  /** Learned from the server's max_limit on the first page; shared by the run's windows. */
  pageSize: { value: number };
  /** Walks of one window before giving up on counts that keep moving. @default 3 */
  maxWalks?: number;
  /** A window counting more rows than this is halved first, so one transaction stays bounded. @default 50_000 */
  maxRowsPerWindow?: number;
  onPage?: (rows: number, pages: number) => void;
}

export interface WindowStats extends LoadCounts {
  window: Window;
  walks: number;
  pages: number;
  rows: number;
  deleted: number;
  count: number;
}

export type WindowOutcome = { kind: "split"; halves: [Window, Window]; count: number } | { kind: "committed"; stats: WindowStats };

/**
 * One window, one database transaction: every page is written as it arrives, the window is
 * checked (every row inside it, distinct ids == count before and after), rows the API no longer
 * lists are marked deleted, and the watermark moves to the window's end before COMMIT.
 * Any failure rolls the whole window back, so the watermark never runs ahead of the data.
 */
export async function syncWindow(context: WindowContext, window: Window): Promise<WindowOutcome> {
  const maxWalks = context.maxWalks ?? 3;
  const maxRows = context.maxRowsPerWindow ?? 50_000;
  const halves = splitWindow(window);

  return inTransaction(context.pool, async (db) => {
    const totals = { inserted: 0, updated: 0, unchanged: 0, pages: 0, rows: 0 };
    const sink = async (rows: Parameters<typeof loadPage>[1], pages: number) => {
      const counts = await loadPage(db, rows, context);
      totals.inserted += counts.inserted;
      totals.updated += counts.updated;
      totals.unchanged += counts.unchanged;
      context.onPage?.(rows.length, pages);
    };

    for (let walk = 1; walk <= maxWalks; walk++) {
      const result = await walkWindow(context.client, window, {
        pageSize: context.pageSize.value,
        concurrency: context.concurrency,
        signal: context.signal,
        sink,
        tooLarge: walk === 1 && halves ? (count) => count > maxRows : undefined,
      });
      if (result.kind === "split") return { kind: "split", halves: halves!, count: result.count };
      if (result.maxLimit) context.pageSize.value = result.maxLimit;
      totals.pages += result.pages;
      totals.rows += result.rows;
      const settled = result.countAtStart === result.countAtEnd && result.pageCountsAgree && result.ids.size === result.countAtEnd;
      if (!settled) {
        if (walk === maxWalks) {
          throw new GuardError(
            "WINDOW_UNSETTLED",
            `window [${formatInstant(window.from)}, ${formatInstant(window.to)}) did not settle after ${maxWalks} walks: ` +
              `the API counted ${result.countAtStart} then ${result.countAtEnd} rows, ${result.ids.size} distinct ids were received; nothing was committed for this window`,
          );
        }
        continue;
      }

      const from = toPgTimestamp(window.from);
      const to = toPgTimestamp(window.to);
      const deleted = await db.query<{ deleted: number }>(markDeletedSql, [
        context.account, from, to, [...result.ids], context.seenAt, context.runId,
      ]);
      await db.query(advanceWatermarkSql, [context.account, transactionsStream, to, context.runId]);
      const stats: WindowStats = { window, walks: walk, count: result.countAtEnd, deleted: deleted.rows[0]!.deleted, ...totals };
      await db.query(addWindowCountsSql, [
        context.runId, stats.pages, stats.rows, stats.inserted, stats.updated, stats.unchanged, stats.deleted, to,
      ]);
      return { kind: "committed", stats };
    }
    throw new Error("unreachable");
  });
}
