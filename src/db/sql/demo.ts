// The demo's own account (generect-sync demo): cleared before each demo, so every demo is a first
// sync, and summed after it. $1 the demo's account label.

export const clearDemoSql = [
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
