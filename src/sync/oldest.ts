import type { GenerectClient } from "../api/client.js";
import type { Micros } from "../api/time.js";
import { GuardError } from "../errors.js";

/**
 * created_at of the account's oldest transaction: the list is newest first, so it is the row at
 * offset count-1. A row added between the two requests shifts that offset; the counts tell.
 */
export async function findOldestTransaction(client: GenerectClient, attempts = 3): Promise<Micros | undefined> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const head = await client.listAllTransactions(1, 0);
    if (head.count === 0) return undefined;
    const tail = await client.listAllTransactions(1, head.count - 1);
    const oldest = tail.rows[0];
    if (tail.count === head.count && oldest) return oldest.createdAt;
  }
  throw new GuardError("OLDEST_UNSETTLED", `could not find the oldest transaction: the API's count kept changing over ${attempts} attempts`);
}
