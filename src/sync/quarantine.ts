import type pg from "pg";
import { sanitiseText } from "../api/schema.js";
import { arrayLiteral, jsonArrayText, nullableArrayLiteral } from "../db/array-literal.js";
import { openUnidentifiedSql, quarantineRowsSql, resolveQuarantinedSql, resolveUnidentifiedSql } from "../db/sql/quarantine.js";
import { formatInstant, type Micros, parseTimestamp } from "../time.js";
import type { ReceivedRejected } from "./pages.js";
import type { Window } from "./plan.js";

export interface QuarantineContext {
  account: string;
  runId: string;
  seenAt: Date;
}

/**
 * Keeps a committed window's rejected rows in quarantined_rows, in the window's transaction: the
 * window commits with them or not at all. The same text twice in one window is one entry.
 */
export async function quarantineRows(
  db: pg.ClientBase,
  context: QuarantineContext,
  window: Window,
  rejected: readonly ReceivedRejected[],
): Promise<void> {
  const unique = [...new Map(rejected.map((row) => [row.raw, row])).values()];
  if (unique.length === 0) return;
  await db.query(quarantineRowsSql, [
    context.account,
    context.runId,
    formatInstant(window.from),
    formatInstant(window.to),
    context.seenAt,
    nullableArrayLiteral(unique.map((r) => r.id)),
    arrayLiteral(unique.map((r) => r.code)),
    arrayLiteral(unique.map((r) => sanitiseText(r.reason))),
    jsonArrayText(unique.map((r) => r.raw)),
    arrayLiteral(unique.map((r) => String(r.offset))),
    arrayLiteral(unique.map((r) => String(r.position))),
  ]);
}

/**
 * Open entries of transactions the window received valid are resolved: the API corrected the row.
 * `idsLiteral` is the window's received ids as an array literal (the deletion mark's, reused).
 */
export async function resolveQuarantined(
  db: pg.ClientBase,
  context: QuarantineContext,
  idsLiteral: string,
  rejected: readonly ReceivedRejected[],
): Promise<void> {
  const rejectedIds = rejected.flatMap((r) => (r.id === null ? [] : [r.id]));
  await db.query(resolveQuarantinedSql, [context.account, idsLiteral, arrayLiteral(rejectedIds), context.seenAt, context.runId]);
}

/**
 * Open entries without a readable id that a window walked without one account for: the entry's
 * row was listed at its created_at (read from its text), or, that unreadable too, somewhere in the
 * window it was received in. Every row listed there has now come with a readable id, so the row
 * is stored as the API sends it now, or gone upstream; no id could ever link the entry to it.
 * Called only for a window that settled with no row lacking a readable id.
 */
export async function resolveUnidentified(db: pg.ClientBase, context: QuarantineContext, window: Window): Promise<void> {
  const { rows } = await db.query<{ id: string; raw: string; window_from: string; window_to: string }>(openUnidentifiedSql, [
    context.account,
  ]);
  const accounted = rows.filter((entry) => {
    const at = createdAtOf(entry.raw);
    if (at !== undefined) return at >= window.from && at < window.to;
    return Number(entry.window_from) >= window.from && Number(entry.window_to) <= window.to;
  });
  if (accounted.length === 0) return;
  await db.query(resolveUnidentifiedSql, [context.account, arrayLiteral(accounted.map((e) => e.id)), context.seenAt, context.runId]);
}

/** The created_at of a quarantined row's text, read as the row reader reads it (schema.ts). */
function createdAtOf(raw: string): Micros | undefined {
  let row: unknown;
  try {
    row = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const value = typeof row === "object" && row !== null ? (row as { created_at?: unknown }).created_at : undefined;
  return typeof value === "string" ? parseTimestamp(value) : undefined;
}
