// The monthly statement (generect-sync statement): every statement it runs. Parameters: $1 account,
// $2 IANA timezone, $3 first month and $4 last month as 'YYYY-MM-01' (local months); LINES_SQL also
// takes $5 endpoint labels and $6 their balance types (ENDPOINT_BALANCE_TYPES, src/statement/query.ts).
// Sums go through trim_scale(...)::text so money leaves Postgres as exact, canonical decimal text.

/**
 * The months x balance types the ledger has a balance for or Generect reports spend on, with the
 * month's movements. A month that starts at or after the watermark is unknown to the ledger: its
 * figures are NULL, not zeros.
 */
export const LINES_SQL = `
WITH months AS (
  SELECT m::date AS month, (m AT TIME ZONE $2) AS starts, ((m + interval '1 month') AT TIME ZONE $2) AS ends
  FROM generate_series($3::date::timestamp, $4::date::timestamp, interval '1 month') m
),
live AS (
  SELECT * FROM transactions WHERE account = $1 AND deleted_at IS NULL
),
moves AS (
  SELECT t.month, t.balance_type,
         sum(t.amount) FILTER (WHERE t.status = 'success' AND t.amount < 0) AS charges,
         sum(t.amount) FILTER (WHERE t.status <> 'pending' AND t.amount > 0 AND NOT COALESCE(t.description ILIKE '%refund%', false)) AS top_ups,
         sum(t.amount) FILTER (WHERE t.status <> 'pending' AND t.amount > 0 AND t.description ILIKE '%refund%') AS refunds,
         sum(t.amount) FILTER (WHERE t.status = 'error' AND t.amount < 0) AS reversed,
         sum(t.amount) FILTER (WHERE t.status = 'pending') AS pending
  FROM (SELECT date_trunc('month', created_at AT TIME ZONE $2)::date AS month, * FROM live
        WHERE created_at >= (SELECT min(starts) FROM months) AND created_at < (SELECT max(ends) FROM months)) t
  GROUP BY 1, 2
),
api AS (
  SELECT date_trunc('month', s.day)::date AS month, COALESCE(l.balance_type, s.endpoint) AS balance_type, sum(s.credits) AS spent
  FROM spent_credits_daily s LEFT JOIN unnest($5::text[], $6::text[]) AS l(endpoint, balance_type) USING (endpoint)
  WHERE s.account = $1 AND s.timezone = $2
  GROUP BY 1, 2
),
-- A type Generect reports spend on has its lines even when the mirror holds no live row of it.
types AS (SELECT balance_type FROM live UNION SELECT balance_type FROM api),
captured AS (
  SELECT DISTINCT date_trunc('month', d)::date AS month
  FROM spent_credit_captures c, generate_series(c.start_day::timestamp, c.end_day::timestamp, interval '1 day') d
  WHERE c.account = $1 AND c.timezone = $2
),
watermark AS (SELECT watermark FROM sync_state WHERE account = $1 AND stream = 'transactions'),
grid AS (
  SELECT mo.*, ty.balance_type,
         -- Times are microseconds: created before starts is created at or before starts - 1 µs.
         (SELECT after_balance FROM ledger_balance_at($1, ty.balance_type, mo.starts - interval '1 microsecond')) AS opening,
         (SELECT after_balance FROM ledger_balance_at($1, ty.balance_type, mo.ends - interval '1 microsecond')) AS closing
  FROM months mo CROSS JOIN types ty
),
lines AS (
  SELECT g.month, g.starts, g.ends, g.balance_type, g.opening, g.closing,
         COALESCE(m.charges, 0) AS charges, COALESCE(m.top_ups, 0) AS top_ups, COALESCE(m.refunds, 0) AS refunds,
         COALESCE(m.reversed, 0) AS reversed, COALESCE(m.pending, 0) AS pending,
         CASE WHEN c.month IS NOT NULL OR a.spent IS NOT NULL THEN COALESCE(a.spent, 0) END AS generect_spent
  FROM grid g
  LEFT JOIN moves m USING (month, balance_type)
  LEFT JOIN api a USING (month, balance_type)
  LEFT JOIN captured c USING (month)
  WHERE g.closing IS NOT NULL OR a.spent IS NOT NULL
)
SELECT to_char(month, 'YYYY-MM') AS month, balance_type,
       trim_scale(CASE WHEN known THEN opening END)::text AS opening_balance,
       trim_scale(CASE WHEN known THEN charges END)::text AS charges,
       trim_scale(CASE WHEN known THEN top_ups END)::text AS top_ups,
       trim_scale(CASE WHEN known THEN refunds END)::text AS refunds,
       trim_scale(CASE WHEN known THEN reversed END)::text AS reversed,
       trim_scale(CASE WHEN known THEN pending END)::text AS pending,
       trim_scale(CASE WHEN known THEN closing END)::text AS closing_balance,
       trim_scale(generect_spent)::text AS generect_spent,
       trim_scale(CASE WHEN known THEN generect_spent - charges END)::text AS difference,
       trim_scale(CASE WHEN known THEN closing - (COALESCE(opening, 0) + charges + top_ups + refunds + reversed + pending) END)::text AS balance_difference,
       COALESCE(watermark >= ends, false) AS complete
FROM (SELECT lines.*, w.watermark, COALESCE(w.watermark > lines.starts, false) AS known
      FROM lines LEFT JOIN watermark w ON true) lines
ORDER BY month, balance_type = 'platform' DESC, balance_type`;

/**
 * One row per local day of the range up to today: agrees / differs (Generect's figure against the
 * ledger's, the reconcile command's tolerance), incomplete (the watermark is before the day's end),
 * not_captured (no spent-credit capture covers the day).
 */
export const DAYS_SQL = `
WITH days AS (
  SELECT d::date AS day FROM generate_series($3::date::timestamp, LEAST(($4::date + interval '1 month' - interval '1 day')::date, (now() AT TIME ZONE $2)::date)::timestamp, interval '1 day') d
),
watermark AS (SELECT watermark FROM sync_state WHERE account = $1 AND stream = 'transactions')
SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
       CASE WHEN COALESCE((SELECT watermark FROM watermark) < ((d.day + 1)::timestamp AT TIME ZONE $2), true) THEN 'incomplete'
            WHEN r.day IS NULL THEN 'not_captured'
            WHEN abs(r.difference) <= 0.000001 THEN 'agrees'
            ELSE 'differs' END AS state,
       trim_scale(r.api_spent)::text AS api_spent, trim_scale(r.ledger_spent)::text AS ledger_spent
FROM days d
LEFT JOIN credit_reconciliation_daily r ON r.account = $1 AND r.timezone = $2 AND r.day = d.day
ORDER BY d.day`;

/** The default range: the local month of the oldest live transaction to the current local month. */
export const RANGE_SQL = `
SELECT to_char(min(created_at) AT TIME ZONE $2, 'YYYY-MM') AS first,
       to_char(now() AT TIME ZONE $2, 'YYYY-MM') AS current
FROM transactions WHERE account = $1 AND deleted_at IS NULL`;

export const PROVENANCE_SQL = `
SELECT (SELECT min(id)::text FROM sync_runs WHERE account = $1) AS first_run_id,
       (SELECT max(id)::text FROM sync_runs WHERE account = $1) AS last_run_id,
       (SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM sync_state WHERE account = $1 AND stream = 'transactions') AS watermark`;

/** Rows the API sent that could not be stored and nobody has resolved yet (older schemas lack the table). */
export const QUARANTINE_EXISTS_SQL = `SELECT to_regclass('quarantined_rows') IS NOT NULL AS present`;

export const QUARANTINE_COUNT_SQL = `SELECT count(*)::int AS n FROM quarantined_rows WHERE account = $1 AND resolved_at IS NULL`;

export const PROOFS_EXIST_SQL = `SELECT to_regclass('audit_sweeps') IS NOT NULL AS present`;

export const LAST_SWEEP_SQL = `
SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS at, windows, jsonb_array_length(differing) AS differing
FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1`;
