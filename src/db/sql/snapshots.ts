// spent_credit_snapshots and spent_credit_captures: the API's spent credits per local day, appended
// as captured; and the days they are reconciled on (credit_reconciliation_daily).

/**
 * Appends the values that are new or changed since their latest capture (a restatement keeps
 * both rows); a label the API stopped listing for a day it still covers gets a 0 row, because
 * the API lists only labels that spent something. Capturing the same answer twice writes nothing.
 * $1 account, $2 timezone, $3 captured_at, $4 days, $5 endpoints, $6 credits, $7 from, $8 to, $9 run id.
 */
export const appendSnapshotsSql = `
WITH incoming AS (
  SELECT * FROM unnest($4::date[], $5::text[], $6::numeric[]) AS t(day, endpoint, credits)
),
latest AS (
  SELECT DISTINCT ON (day, endpoint) day, endpoint, credits
  FROM spent_credit_snapshots
  WHERE account = $1 AND timezone = $2 AND day BETWEEN $7::date AND $8::date
  ORDER BY day, endpoint, captured_at DESC, id DESC
),
changes AS (
  SELECT i.day, i.endpoint, i.credits, l.credits IS NOT NULL AS restated
  FROM incoming i LEFT JOIN latest l USING (day, endpoint)
  WHERE l.credits IS DISTINCT FROM i.credits
  UNION ALL
  SELECT l.day, l.endpoint, 0, true
  FROM latest l LEFT JOIN incoming i USING (day, endpoint)
  WHERE i.day IS NULL AND l.credits <> 0
),
written AS (
  INSERT INTO spent_credit_snapshots (account, timezone, day, endpoint, credits, captured_at, run_id)
  SELECT $1, $2, day, endpoint, credits, $3, $9 FROM changes
  RETURNING 1
)
SELECT (SELECT count(*) FROM written)::int AS written,
       (SELECT count(*) FROM changes WHERE restated)::int AS restated`;

/** Records the request, and whether its total agreed with its values (compared as numeric). $1.. see call. */
export const recordCaptureSql = `
INSERT INTO spent_credit_captures (account, timezone, start_day, end_day, captured_at, run_id, api_total, values_total, buckets)
SELECT $1, $2, $3::date, $4::date, $5, $6, $7::numeric, COALESCE(sum(v), 0), $9
FROM unnest($8::numeric[]) v
RETURNING api_total = values_total AS total_matches, values_total::text`;

export const lastCapturedDaySql = `
SELECT to_char(max(end_day), 'YYYY-MM-DD') AS day FROM spent_credit_captures WHERE account = $1 AND timezone = $2`;
