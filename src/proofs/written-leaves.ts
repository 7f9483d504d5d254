// The chain's leaves of a window that only inserted rows, computed from the rows as sent instead of
// read back from the tables: a fresh window's versions are exactly its inserts, each under a version
// id reserved for it (reserveVersionIdsSql), so nothing needs reading. Reading a backfill's versions
// back cost Postgres about 2 µs a row (README, "Storage v2"). A leaf computed here must be the one
// verify later computes from the stored row (chain.ts); a value whose stored form this module cannot
// foresee exactly gives no leaf, and the window's versions are then read back as before.
import type { Transaction } from "../api/schema.js";
import { storedInstant, storedNumeric } from "../db/stored-form.js";
import type { Micros } from "../time.js";
import { type ChainVersion, type LinkVersions, leafDigest, versionOrder } from "./chain.js";

/** The version an insert of `row` under `versionId` stores, in the chain's form; undefined when not foreseeable. */
export function insertedVersion(account: string, row: Transaction, versionId: string, validFrom: string): ChainVersion | undefined {
  const createdAt = storedInstant(row.createdAt);
  const updatedAt = row.updatedAt === null ? null : storedInstant(row.updatedAt);
  const amount = storedNumeric(row.amount);
  const afterBalance = row.afterBalance === null ? null : storedNumeric(row.afterBalance);
  if (createdAt === undefined || updatedAt === undefined || amount === undefined || afterBalance === undefined) return undefined;
  return {
    account,
    id: row.id,
    version_id: versionId,
    valid_from: validFrom,
    created_at: createdAt,
    updated_at: updatedAt,
    status: row.status,
    balance_type: row.balanceType,
    amount,
    description: row.description,
    after_balance: afterBalance,
    raw: row.raw,
  };
}

/**
 * The leaves of the versions one window wrote, as long as it only inserted rows under reserved ids.
 * Anything else the window writes (an upsert, a deletion mark) makes it `lost`: its link then reads
 * its versions back.
 */
export class WrittenLeaves {
  #digests: string[] = [];
  #first: string | undefined;
  #last: string | undefined;
  #lost = false;
  readonly #validFrom: string | undefined;

  constructor(
    readonly account: string,
    /** When the run's versions became current (its seen_at). */
    seenAt: Micros,
  ) {
    this.#validFrom = storedInstant(seenAt);
    if (this.#validFrom === undefined) this.lose();
  }

  /** Rows inserted, in order, each under the version id at its position (ascending). */
  inserted(rows: readonly Transaction[], versionIds: readonly string[]): void {
    if (this.#lost) return;
    if (rows.length !== versionIds.length) {
      this.lose();
      return;
    }
    for (let i = 0; i < rows.length; i++) {
      const versionId = versionIds[i]!;
      const version = insertedVersion(this.account, rows[i]!, versionId, this.#validFrom!);
      if (version === undefined || (this.#last !== undefined && versionOrder(versionId, this.#last) <= 0)) {
        this.lose();
        return;
      }
      this.#first ??= versionId;
      this.#last = versionId;
      this.#digests.push(leafDigest(version));
    }
  }

  /** The window wrote versions some other way: they are read back. */
  lose(): void {
    this.#lost = true;
    this.#digests = [];
  }

  /** The versions' ids and leaves, in version order; undefined when lost or nothing was inserted. */
  get versions(): LinkVersions | undefined {
    if (this.#lost || this.#first === undefined || this.#last === undefined) return undefined;
    return { first: this.#first, last: this.#last, count: this.#digests.length, leaves: Buffer.from(this.#digests.join(""), "latin1") };
  }
}
