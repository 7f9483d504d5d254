import { GuardError } from "../errors.js";
import { asMicros, type Micros } from "../time.js";
import type { GenerectClient } from "./client.js";
import type { TransactionsPage } from "./schema.js";

/** Rows read back from the end when the last one has no readable created_at. */
const lookBehind = 100;

/** Entries of a page: transactions and rows that cannot be ones (the API lists both). */
const entries = (page: TransactionsPage) => page.rows.length + page.rejected.length;

/** Readable created_at values of a page, rejected rows' included. */
const times = (page: TransactionsPage): Micros[] => [
  ...page.rows.map((r) => r.createdAt),
  ...page.rejected.flatMap((r) => (r.createdAt === null ? [] : [r.createdAt])),
];

/**
 * created_at of the account's oldest transaction: the list is newest first, so it is the last row.
 * The count says where that is, but only a page of two at that offset that holds one row proves it
 * (a count one short would otherwise start the first run one row late, and lose that row for
 * good). When the proof fails, the last row is searched for: doubling offsets until one is empty,
 * then halving the gap, each step one request. When the last row cannot be read as a transaction,
 * its created_at still serves if readable; if not, the oldest readable created_at among the last
 * rows does, and rows older than it but without a readable created_at are left to SYNC_START (the
 * API places them, we cannot).
 */
export async function findOldestTransaction(client: GenerectClient, maxProbes = 64): Promise<Micros | undefined> {
  return (await findHistory(client, maxProbes))?.oldest;
}

/** The account's history as the search for its oldest row saw it; undefined when it has no rows. */
export interface History {
  /** created_at of the oldest transaction (see findOldestTransaction). */
  oldest: Micros;
  /** Rows the list held when its last row was found there (rows arrive and go): for sizing windows, not a proof. */
  rows: number;
}

/** findOldestTransaction, with the number of rows it found in the list. */
export async function findHistory(client: GenerectClient, maxProbes = 64): Promise<History | undefined> {
  const head = await client.listAllTransactions(1, 0);
  if (entries(head) === 0) return undefined; // an empty page at offset 0 is the end, whatever the count
  let holds = 0; // an offset known to hold a row
  let empty: number | undefined; // an offset known to hold none
  let offset = Math.max(head.count - 1, 0);
  for (let probe = 0; probe < maxProbes; probe++) {
    const page = await client.listAllTransactions(2, offset);
    if (entries(page) === 1) {
      const last = times(page)[0];
      if (last !== undefined) return { oldest: last, rows: offset + 1 };
      const before = await client.listAllTransactions(lookBehind, Math.max(0, offset + 1 - lookBehind));
      const readable = times(before);
      if (readable.length > 0) return { oldest: asMicros(Math.min(...readable)), rows: offset + 1 };
      break;
    }
    if (entries(page) >= 2) holds = offset + 1;
    else empty = offset;
    offset = empty === undefined ? 2 * holds + 1 : Math.max(holds, Math.floor((holds + empty - 1) / 2));
  }
  throw new GuardError(
    "OLDEST_UNSETTLED",
    `could not find the oldest transaction: the list kept moving over ${maxProbes} requests, or none of its last ${lookBehind} rows has a readable created_at`,
  );
}
