import type pg from "pg";
import { sanitiseText } from "../api/schema.js";
import { arrayLiteral, jsonArrayText, nullableArrayLiteral } from "../db/array-literal.js";
import { quarantineRowsSql, resolveQuarantinedSql } from "../db/sql/quarantine.js";
import { formatInstant } from "../time.js";
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
