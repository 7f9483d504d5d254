import type { GenerectClient } from "../api/client.js";
import type { Transaction } from "../api/schema.js";
import { GuardError } from "../errors.js";
import { asMicros, formatInstant } from "../time.js";
import { entries, guardOffset, type WalkOptions } from "./pages.js";
import type { Window } from "./plan.js";

/** A row held live in a window whose walk did not return it, and that its instant no longer lists. */
export interface Absent {
  id: string;
  amount: string;
  afterBalance: string | null;
  balanceType: string;
}

/** For messages: a moved row may have gone anywhere, behind the lookback too (no created_at filter is sent). */
const anywhere: Window = { from: asMicros(0), to: asMicros(Date.UTC(9999, 11, 31) * 1000) };

/** Pages of look-alikes read before giving up on finding the row (its absence is then not proven). */
const maxPages = 10;

/**
 * What the look-alike search found: the row as it is now (`found`); or no proof that it is gone
 * (`unproven`: among the rows that cannot be transactions, one with its id or one without a
 * readable id, which may be it; or more look-alikes than the search reads); or neither.
 */
export interface Located {
  found: Transaction | undefined;
  unproven: boolean;
  pages: number;
}

/**
 * Where a row that is gone from its created_at now lives, if it moved (same id, new created_at):
 * the rows anywhere in the ledger with its amount, after_balance and balance_type, filters the API
 * documents (id is not one). Returns the row as it is now; `found` undefined and `unproven`
 * false when none of them has its id, every one has a readable id and the last page was read: it
 * was deleted (or changed beyond those fields too, and is then an update wherever a later walk
 * meets it). Every row returned must match the filters: a server that dropped one would answer
 * with unrelated rows, and the row's absence among them would prove nothing.
 */
export async function locateMoved(
  client: GenerectClient,
  row: Absent,
  options: Pick<WalkOptions, "pageSize" | "limit" | "signal">,
): Promise<Located> {
  const limit = options.limit ?? ((request) => request());
  const filters: Record<string, string> = { amount: row.amount, balance_type: row.balanceType };
  if (row.afterBalance !== null) filters.after_balance = row.afterBalance;
  // A listed row without a readable id may be this one: the search goes on, for the row readable.
  let unidentified = false;
  for (let page = 0, offset = 0; page < maxPages; page++) {
    options.signal?.throwIfAborted();
    const answer = await limit(() => client.listMatching(filters, options.pageSize, offset));
    guardOffset(answer, offset, anywhere);
    for (const other of answer.rows) {
      const unlike =
        Number(other.amount) !== Number(row.amount)
          ? "amount"
          : other.balanceType !== row.balanceType
            ? "balance_type"
            : row.afterBalance !== null && Number(other.afterBalance) !== Number(row.afterBalance)
              ? "after_balance"
              : undefined;
      if (unlike) {
        throw new GuardError(
          "API_FILTER_IGNORED",
          `the API returned transaction ${other.id} (created at ${formatInstant(other.createdAt)}) when asked for rows like ${row.id}, ` +
            `whose ${unlike} it does not share: the server ignored the ${unlike} filter; nothing was committed for this window`,
        );
      }
      if (other.id === row.id) return { found: other, unproven: false, pages: page + 1 };
    }
    // Listed, but not as a transaction (its id readable): it lives on, and cannot be written.
    if (answer.rejected.some((other) => other.id === row.id)) return { found: undefined, unproven: true, pages: page + 1 };
    if (answer.rejected.some((other) => other.id === null)) unidentified = true;
    // The API pages every entry, rows that cannot be transactions included: a full page holding
    // one has fewer rows than asked, and is not the last.
    const listed = entries(answer);
    if (listed < options.pageSize) return { found: undefined, unproven: unidentified, pages: page + 1 };
    offset += listed;
  }
  // Look-alikes beyond what the search reads: the row may be among them.
  return { found: undefined, unproven: true, pages: maxPages };
}
