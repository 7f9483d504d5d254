// The demo's own account (generect-sync demo): cleared before each demo, so every demo is a first
// sync, and summed after it. $1 the demo's account label.

/**
 * Every table that holds the account's rows, children before the rows they reference (the foreign
 * keys restrict deletes): a table left out keeps a previous demo's rows, which reference runs no
 * longer there (a second demo in the same home failed on balance_checkpoints) or continue a proof
 * chain whose versions are gone.
 */
export const clearDemoSql = [
  `DELETE FROM audit_sweeps WHERE account = $1`,
  `DELETE FROM proof_chain WHERE account = $1`,
  `DELETE FROM balance_checkpoint_values WHERE checkpoint_id IN (SELECT id FROM balance_checkpoints WHERE account = $1)`,
  `DELETE FROM balance_checkpoints WHERE account = $1`,
  `DELETE FROM quarantined_rows WHERE account = $1`,
  `DELETE FROM ledger_daily_rollups WHERE account = $1`,
  `DELETE FROM ledger_rollups WHERE account = $1`,
  `DELETE FROM ledger_rollup_zones WHERE account = $1`,
  `DELETE FROM transaction_history WHERE account = $1`,
  `DELETE FROM spent_credit_snapshots WHERE account = $1`,
  `DELETE FROM spent_credit_captures WHERE account = $1`,
  `DELETE FROM transactions WHERE account = $1`,
  `DELETE FROM sync_state WHERE account = $1`,
  `DELETE FROM sync_runs WHERE account = $1`,
];

/** The demo's summary: live rows, credits spent, and versions kept. */
export const demoTotalsSql = `SELECT count(*)::text AS rows, COALESCE(sum(amount) FILTER (WHERE amount < 0 AND status = 'success'), 0)::text AS spent,
                (SELECT count(*)::text FROM transaction_versions WHERE account = $1) AS versions
         FROM transactions WHERE account = $1 AND deleted_at IS NULL`;
