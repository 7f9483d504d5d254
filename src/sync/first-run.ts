import { documentedMaxLimit, type GenerectClient } from "../api/client.js";
import { findHistory } from "../api/oldest.js";
import type { TransactionsPage } from "../api/schema.js";
import { asMicros, type Micros } from "../time.js";
import { entries } from "./pages.js";
import type { Window } from "./plan.js";

/**
 * Where a first run looks for history: 1900-01-01 UTC. Far before any Generect ledger, and before
 * the epoch on purpose: an empty time sent as 0 in a zone west of UTC reads 1969-12-31, and such a
 * row must still be walked. (Micros stay exact integers from 1685 on, see time.ts.)
 */
export const historyFloor = asMicros(Date.UTC(1900, 0, 1) * 1000);

/** How a first run (no watermark, no SYNC_START) begins. */
export type FirstRun =
  /** The account lists no transaction. */
  | { kind: "empty" }
  /** The whole history is one window, [historyFloor, runStart), and `page` is its page 0. */
  | { kind: "whole"; window: Window; page: TransactionsPage }
  /** Too many rows for one window: the oldest row was searched for, and `rows` counted on the way. */
  | { kind: "searched"; oldest: Micros; rows: number };

/**
 * One request first: page 0 of the whole possible history, [historyFloor, runStart). An account
 * whose count fits one window (`targetRows`, SYNC_WINDOW_ROWS) is walked as that window from this
 * page: the search for its oldest row would cost two requests or more only to say where the window
 * starts, and every request of a backfill that is not a page of rows is a slot a fleet's accounts
 * share. A larger account is searched as before (findHistory), and this one page is the only
 * request it costs more. Under fixed spans (SYNC_WINDOW_ROWS=0) every first run searches, without
 * this page. The page is a transactions page like any other: the walk checks it (rows inside the window, the offset
 * honoured) and reads the count again at its end, so a count that lies here is met as in any window.
 */
export async function beginFirstRun(client: GenerectClient, runStart: Micros, targetRows: number): Promise<FirstRun> {
  if (targetRows <= 0) return search(client); // fixed spans from 1900 would be a century of empty windows
  const window = { from: historyFloor, to: runStart };
  const page = await client.listTransactions({ gte: window.from, lt: window.to, limit: documentedMaxLimit, offset: 0 });
  if (entries(page) === 0) return { kind: "empty" }; // an empty page at offset 0 is the end, whatever the count
  if (page.count <= targetRows) return { kind: "whole", window, page };
  return search(client);
}

async function search(client: GenerectClient): Promise<FirstRun> {
  const history = await findHistory(client);
  return history ? { kind: "searched", oldest: history.oldest, rows: history.rows } : { kind: "empty" };
}
