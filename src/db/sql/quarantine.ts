// quarantined_rows: rows the API sent that cannot be transactions, kept with their text and reason.

/**
 * Rows of a committed window that cannot be transactions, with their text and reason. A text
 * already held by an open entry of the account only counts one more receipt: each run re-reading
 * its lookback would otherwise repeat the same entry.
 * $1 account, $2 run id, $3 window from, $4 window to, $5 received at; then, per row, $6 ids (NULL
 * when unreadable), $7 reason codes, $8 reasons, $9 the raw rows as one JSON array, $10 page
 * offsets, $11 positions in the page.
 */
export const quarantineRowsSql = `
INSERT INTO quarantined_rows AS q (account, transaction_id, reason_code, reason, raw, window_from, window_to,
                                   page_offset, position, run_id, received_at, last_run_id, last_received_at)
SELECT $1, r.transaction_id, r.reason_code, r.reason, r.raw_json::text, $3, $4, r.page_offset, r.position, $2, $5, $2, $5
FROM ROWS FROM (unnest($6::uuid[]), unnest($7::text[]), unnest($8::text[]), json_array_elements($9::json),
                unnest($10::int[]), unnest($11::int[]))
  AS r(transaction_id, reason_code, reason, raw_json, page_offset, position)
ON CONFLICT (account, md5(raw)) WHERE resolved_at IS NULL DO UPDATE SET
  last_run_id = excluded.last_run_id,
  last_received_at = excluded.last_received_at,
  times_received = q.times_received + 1`;

/**
 * Open entries whose transaction the window has now received valid: the API corrected the row.
 * $1 account, $2 ids received in the window, $3 of those the ones rejected, $4 when, $5 run id.
 */
export const resolveQuarantinedSql = `
UPDATE quarantined_rows SET resolved_at = $4, resolution = 'a valid version was received by run ' || $5::text
WHERE account = $1 AND resolved_at IS NULL AND transaction_id = ANY($2::uuid[]) AND NOT (transaction_id = ANY($3::uuid[]))`;

/**
 * Open entries with their transaction id (NULL when unreadable), their text (its created_at is read
 * in TypeScript, as the row reader reads it) and the window they were received in, in whole
 * microseconds. $1 account.
 */
export const openEntriesSql = `
SELECT id::text, transaction_id::text, raw,
       (extract(epoch FROM window_from) * 1000000)::bigint::text AS window_from,
       (extract(epoch FROM window_to) * 1000000)::bigint::text AS window_to
FROM quarantined_rows WHERE account = $1 AND resolved_at IS NULL`;

/** Entries a settled window no longer lists the row of. $1 account, $2 entry ids, $3 when, $4 run id. */
export const resolveNoLongerListedSql = `
UPDATE quarantined_rows SET resolved_at = $3, resolution = CASE
  WHEN transaction_id IS NULL THEN 'every row listed where it was received came readable in run ' || $4::text
  ELSE 'no longer listed where it was received, in run ' || $4::text END
WHERE account = $1 AND resolved_at IS NULL AND id = ANY($2::bigint[])`;

/** The open entries verify lists (the first 100, oldest first). */
export const openQuarantinedRowsSql = `
SELECT id::text, transaction_id::text, reason_code, reason FROM quarantined_rows
WHERE account = $1 AND resolved_at IS NULL ORDER BY id LIMIT 100`;

/** Whether the account has unresolved quarantined rows (read once per run, see RunKnowledge). */
export const hasOpenQuarantineSql = `SELECT EXISTS (SELECT 1 FROM quarantined_rows WHERE account = $1 AND resolved_at IS NULL) AS open`;
