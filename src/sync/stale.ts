import type { Transaction } from "../api/schema.js";
import { formatInstant } from "../time.js";
import type { QuarantineEntry } from "./quarantine.js";
import type { StaleRow } from "./write-rows.js";

/** The reason code of a row sent older than the version held. */
export const staleVersionCode = "STALE_VERSION";

/**
 * Rows a window received with an `updated_at` older than the version the database holds, as its
 * last walk left them. The API does not edit a row back to an older `updated_at`: such a row comes
 * from a replica (or cache) behind on edits. Writing it would record the newer version superseded
 * by the older one, and the next answer from the primary would restore it, a history of versions
 * that never were. So the held version stays, and the row goes to quarantined_rows: an open entry
 * until a window receives the row again as recent as the version held (it then resolves, as any
 * entry does); if the API keeps sending it older for good, verify's `quarantine` proof says so.
 */
export class StaleRows {
  readonly #byId = new Map<string, QuarantineEntry>();

  /** After a batch was written: its rows, and those of them writeRows did not write for being older. */
  written(rows: readonly Transaction[], stale: readonly StaleRow[]): void {
    // The common case, a backfill's every batch: nothing held back, nothing to look up.
    if (this.#byId.size === 0 && stale.length === 0) return;
    for (const row of rows) this.#byId.delete(row.id);
    for (const { row, heldUpdatedAt } of stale) {
      this.#byId.set(row.id, {
        id: row.id,
        code: staleVersionCode,
        reason: `updated_at ${row.updatedAt === null ? "null" : formatInstant(row.updatedAt)} is older than the version held (updated_at ${formatInstant(heldUpdatedAt)}): a stale answer, not written over the newer version`,
        raw: row.raw,
        offset: null,
        position: null,
      });
    }
  }

  /** Quarantine entries for the rows that were older the last time the window received them. */
  get entries(): QuarantineEntry[] {
    return [...this.#byId.values()];
  }
}
