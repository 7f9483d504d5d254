import type pg from "pg";
import { sanitiseText } from "../api/schema.js";
import { arrayLiteral, jsonArrayText, nullableArrayLiteral } from "../db/array-literal.js";
import { openEntriesSql, quarantineRowsSql, resolveNoLongerListedSql, resolveQuarantinedSql } from "../db/sql/quarantine.js";
import { formatInstant, type Micros, parseTimestamp } from "../time.js";
import type { Window } from "./plan.js";

/**
 * What an entry records of a row: a rejected row where its page held it (ReceivedRejected), or a
 * row the window did not write (stale.ts), found when writing, where no page position is kept.
 */
export interface QuarantineEntry {
  id: string | null;
  code: string;
  reason: string;
  raw: string;
  offset: number | null;
  position: number | null;
}

export interface QuarantineContext {
  account: string;
  runId: string;
  seenAt: Date;
}

/**
 * Keeps a committed window's rejected (and stale) rows in quarantined_rows, in the window's transaction: the
 * window commits with them or not at all. The same text twice in one window is one entry.
 */
export async function quarantineRows(
  db: pg.ClientBase,
  context: QuarantineContext,
  window: Window,
  rejected: readonly QuarantineEntry[],
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
    nullableArrayLiteral(unique.map((r) => (r.offset === null ? null : String(r.offset)))),
    nullableArrayLiteral(unique.map((r) => (r.position === null ? null : String(r.position)))),
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
  rejected: readonly QuarantineEntry[],
): Promise<void> {
  const rejectedIds = rejected.flatMap((r) => (r.id === null ? [] : [r.id]));
  await db.query(resolveQuarantinedSql, [context.account, idsLiteral, arrayLiteral(rejectedIds), context.seenAt, context.runId]);
}

/**
 * Open entries a window settled with every row's id readable accounts for: the entry's row was
 * received at its created_at (read from its text), or, that unreadable too, somewhere in the
 * window it came in, and the window no longer lists it there. So the row is stored as the API
 * sends it now (every row listed came readable, an entry without an id never links to one), or
 * gone upstream, or moved (the window where it lives now stores it). `received` holds the ids the
 * window listed; `quarantined` its own entries, which stay open.
 * Called only for a window that settled with no row lacking a readable id: such a row could be any
 * entry's.
 */
export async function resolveNoLongerListed(
  db: pg.ClientBase,
  context: QuarantineContext,
  window: Window,
  received: ReadonlySet<string>,
  quarantined: readonly QuarantineEntry[],
): Promise<void> {
  const { rows } = await db.query<{ id: string; transaction_id: string | null; raw: string; window_from: string; window_to: string }>(
    openEntriesSql,
    [context.account],
  );
  const kept = new Set(quarantined.flatMap((entry) => (entry.id === null ? [] : [entry.id])));
  const accounted = rows.filter((entry) => {
    if (entry.transaction_id !== null && (received.has(entry.transaction_id) || kept.has(entry.transaction_id))) return false;
    const at = createdAtOf(entry.raw);
    if (at !== undefined) return at >= window.from && at < window.to;
    return Number(entry.window_from) >= window.from && Number(entry.window_to) <= window.to;
  });
  if (accounted.length === 0) return;
  await db.query(resolveNoLongerListedSql, [context.account, arrayLiteral(accounted.map((e) => e.id)), context.seenAt, context.runId]);
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
