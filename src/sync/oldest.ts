import type { GenerectClient } from "../api/client.js";
import type { Micros } from "../api/time.js";
import { GuardError } from "../errors.js";

/** Rows read back from the end when the last one has no readable created_at. */
const lookBehind = 100;

/**
 * created_at of the account's oldest transaction: the list is newest first, so it is the row at
 * offset count-1. A row added between the two requests shifts that offset; the counts tell. When
 * that row cannot be read as a transaction, its created_at still serves if readable; if not, the
 * oldest readable created_at among the last rows does, and rows older than it but without a
 * readable created_at are left to SYNC_START (the API places them, we cannot).
 */
export async function findOldestTransaction(client: GenerectClient, attempts = 3): Promise<Micros | undefined> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const head = await client.listAllTransactions(1, 0);
    if (head.count === 0) return undefined;
    const tail = await client.listAllTransactions(1, head.count - 1);
    const oldest = tail.rows[0]?.createdAt ?? tail.rejected[0]?.createdAt;
    if (tail.count !== head.count) continue;
    if (oldest !== undefined && oldest !== null) return oldest;
    const before = await client.listAllTransactions(lookBehind, Math.max(0, head.count - lookBehind));
    const times = [...before.rows.map((r) => r.createdAt), ...before.rejected.flatMap((r) => (r.createdAt === null ? [] : [r.createdAt]))];
    if (before.count === head.count && times.length > 0) return Math.min(...times);
  }
  throw new GuardError("OLDEST_UNSETTLED", `could not find the oldest transaction: the API's count kept changing over ${attempts} attempts`);
}
