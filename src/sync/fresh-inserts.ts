import type pg from "pg";
import { genericPlansSql, plansForParametersSql } from "../db/sql/server.js";
import { freshBatchSavepointSql, releaseFreshBatchSql, rollBackFreshBatchSql, type WritePath } from "../db/sql/transactions.js";

/**
 * Savepoints one window's transaction takes at most. Postgres caches 64 subtransaction ids per
 * session; past that, every other session's snapshot looks this one's up in pg_subtrans for as
 * long as the window is open, which slows the BI queries reading beside a backfill.
 */
export const maxFreshSavepoints = 48;

const uniqueViolation = "23505";

/**
 * The inserts of a window that held nothing when its transaction began. Each batch is inserted
 * unchecked under a savepoint (see insertNewPageSql): a held key fails it, the savepoint undoes it,
 * and the caller upserts the batch. Past maxFreshSavepoints the batches are inserted checked, with
 * no savepoint. From the first batch until end(), the transaction plans generically
 * (genericPlansSql). One per window transaction.
 */
export class FreshInserts {
  private savepoints = 0;
  private generic = false;

  constructor(private readonly sql: WritePath) {}

  /** Rows inserted: fewer than the batch when some were held (none of it when the unchecked insert met one). */
  async insert(db: pg.ClientBase, parameters: unknown[]): Promise<number> {
    if (this.sql.genericPlans && !this.generic) {
      // Outside the savepoint, which a held key rolls back, and the setting with it.
      await db.query(genericPlansSql);
      this.generic = true;
    }
    if (!this.sql.insertNewPageInSavepoint) return inserted(db, this.sql.insertNewPage, parameters);
    if (this.savepoints >= maxFreshSavepoints) return inserted(db, this.sql.insertCheckedPage, parameters);
    this.savepoints++;
    await db.query(freshBatchSavepointSql);
    try {
      const count = await inserted(db, this.sql.insertNewPage, parameters);
      await db.query(releaseFreshBatchSql);
      return count;
    } catch (error) {
      if ((error as { code?: string }).code !== uniqueViolation) throw error;
      await db.query(rollBackFreshBatchSql);
      await db.query(releaseFreshBatchSql);
      return 0;
    }
  }

  /** The window inserts no more fresh batches: its next statements are planned for their parameters. */
  async end(db: pg.ClientBase): Promise<void> {
    if (!this.generic) return;
    await db.query(plansForParametersSql);
    this.generic = false;
  }
}

async function inserted(db: pg.ClientBase, sql: string, parameters: unknown[]): Promise<number> {
  return (await db.query<{ inserted: number }>(sql, parameters)).rows[0]!.inserted;
}
