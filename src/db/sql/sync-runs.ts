// sync_runs: one row per run of an account, its outcome and its counters.

/** Counters of a committed window, added in the window's own transaction so sync_runs never over-reports. */
export const addWindowCountsSql = `
UPDATE sync_runs SET
  windows_walked = windows_walked + 1,
  pages = pages + $2,
  rows_seen = rows_seen + $3,
  rows_inserted = rows_inserted + $4,
  rows_updated = rows_updated + $5,
  rows_unchanged = rows_unchanged + $6,
  rows_deleted = rows_deleted + $7,
  watermark_to = $8,
  rows_rejected = rows_rejected + $9,
  count_mismatches = count_mismatches + $10
WHERE id = $1`;

export const startRunSql = `
INSERT INTO sync_runs (account, command, status, started_at, host, pid, watermark_from, version)
VALUES ($1, $2, 'running', now(), $3, $4, $5, $6)
RETURNING id::text`;

export const finishRunSql = `
UPDATE sync_runs SET status = $2, finished_at = now(), api_requests = $3, retries = $4,
  error_code = $5, error_message = $6
WHERE id = $1`;

/** Runs left `running` by a killed process; only called while holding the account's lock. */
export const markInterruptedSql = `
UPDATE sync_runs SET status = 'interrupted', finished_at = now(),
  error_code = COALESCE(error_code, 'ABANDONED'),
  error_message = COALESCE(error_message, 'the process ended before finishing the run (killed or crashed)')
WHERE account = $1 AND status = 'running' AND id <> $2
RETURNING id::text`;

export const runningRunSql = `
SELECT id::text, started_at, host, pid FROM sync_runs
WHERE account = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`;

export const addSnapshotCountsSql = `
UPDATE sync_runs SET
  snapshot_days = snapshot_days + $2,
  snapshot_rows = snapshot_rows + $3,
  snapshot_restated = snapshot_restated + $4,
  snapshot_total_mismatches = snapshot_total_mismatches + $5
WHERE id = $1`;

/** The chain head at the end of the run (see proofs.ts), kept on the run's row. */
export const setHeadDigestSql = `UPDATE sync_runs SET head_digest = $2 WHERE id = $1`;
