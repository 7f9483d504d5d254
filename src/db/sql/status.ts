// The reads of `generect-sync status` and `reconcile`, over several tables and views. Plain SQL over
// node-postgres: the Prisma client (its WebAssembly query compiler) took most of the command's
// second of start-up for six small reads.

export const statusWatermarkSql = `SELECT watermark FROM sync_state WHERE account = $1 AND stream = 'transactions'`;

// ORDER BY sync_runs.id: a bare "id" sorts by the text output column, run 99999 before 100000.
export const runsSql = `
SELECT id::text, status, started_at, finished_at, windows_walked, pages, rows_seen, rows_inserted, rows_updated,
       rows_unchanged, rows_deleted, rows_rejected, count_mismatches, api_requests, retries, version, error_message
FROM sync_runs WHERE account = $1 ORDER BY sync_runs.id DESC LIMIT $2`;

export const lastSuccessSql = `SELECT finished_at FROM sync_runs WHERE account = $1 AND status = 'succeeded' ORDER BY id DESC LIMIT 1`;

// From the rollups the sync keeps with every window: counting the ledger itself took seconds at a million rows.
export const transactionCountsSql = `
SELECT COALESCE(sum(live_rows), 0)::int AS live, COALESCE(sum(deleted_rows), 0)::int AS deleted
FROM ledger_daily_rollups WHERE account = $1 AND timezone = 'UTC'`;

export const openQuarantineSql = `SELECT count(*)::int AS open FROM quarantined_rows WHERE account = $1 AND resolved_at IS NULL`;

/** The last evidence verify left: its sweep, the chain's head, the last users/me checkpoint (cheap reads, no recomputation). */
export const proofsSql = `
SELECT (SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1) AS sweep_at,
       (SELECT windows FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1) AS sweep_windows,
       (SELECT jsonb_array_length(differing) FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1) AS sweep_differing,
       (SELECT head_digest FROM proof_chain WHERE account = $1 ORDER BY seq DESC LIMIT 1) AS head,
       (SELECT count(*)::int FROM proof_chain WHERE account = $1) AS links,
       (SELECT outcome || ' ' || to_char(captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM balance_checkpoints WHERE account = $1 ORDER BY id DESC LIMIT 1) AS checkpoint`;

/** The days of credit_reconciliation_daily in [$3, $4] (either NULL: open), with whether each differs by more than $5. */
export const reconciliationSql = `
SELECT to_char(day, 'YYYY-MM-DD') AS day, api_spent::text, ledger_spent::text, difference::text,
       ledger_charges::int, ledger_complete, abs(difference) > $5::numeric AS differs
FROM credit_reconciliation_daily
WHERE account = $1 AND timezone = $2
  AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)
ORDER BY day`;
