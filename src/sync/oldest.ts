import type { GenerectClient } from "../api/client.js";
import type { Micros } from "../api/time.js";
import { GuardError } from "../errors.js";

/**
 * created_at of the account's oldest transaction: the list is newest first, so it is the last row.
 * The count says where that is, but only a page of two at that offset that holds one row proves it
 * (a count one short would otherwise start the first run one row late, and lose that row for
 * good). When the proof fails, the last row is searched for: doubling offsets until one is empty,
 * then halving the gap, each step one request.
 */
export async function findOldestTransaction(client: GenerectClient, maxProbes = 64): Promise<Micros | undefined> {
  const head = await client.listAllTransactions(1, 0);
  if (head.rows.length === 0) return undefined; // an empty page at offset 0 is the end, whatever the count
  let holds = 0; // an offset known to hold a row
  let empty: number | undefined; // an offset known to hold none
  let offset = Math.max(head.count - 1, 0);
  for (let probe = 0; probe < maxProbes; probe++) {
    const page = await client.listAllTransactions(2, offset);
    if (page.rows.length === 1) return page.rows[0]!.createdAt;
    if (page.rows.length >= 2) holds = offset + 1;
    else empty = offset;
    offset = empty === undefined ? 2 * holds + 1 : Math.max(holds, Math.floor((holds + empty - 1) / 2));
  }
  throw new GuardError("OLDEST_UNSETTLED", `could not find the oldest transaction: the list kept moving over ${maxProbes} requests`);
}
