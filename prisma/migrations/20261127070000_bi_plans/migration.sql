-- BI plans (issue #15): every README query and BI view reads an index or the rollups, not the
-- whole ledger. No semicolon may appear inside a string or comment here: the migration runner
-- splits scripts on semicolons. Every view keeps its columns and meaning (CREATE OR REPLACE keeps
-- their comments and grants).

-- The accounts that hold transactions, found by skipping through the primary key (one index probe
-- per account, whatever the rows). The views below join it to transactions so that a plan reaches
-- the (account, ...) indexes for every account: with no account in the query, a predicate on
-- created_at alone read the whole (account, created_at) index or the whole table. Declared ROWS 1
-- and kept out of line (the SET clause) so the planner takes a nested loop over the few accounts
-- with a parameterized index scan each, which a recursive CTE's estimate of 101 rows turned into a
-- hash join over a full index scan.
CREATE FUNCTION "ledger_accounts"() RETURNS SETOF TEXT
LANGUAGE sql STABLE ROWS 1 SET search_path FROM CURRENT AS $fn$
  WITH RECURSIVE a AS (
    SELECT min(t.account) AS account FROM transactions t
    UNION ALL
    SELECT (SELECT min(t.account) FROM transactions t WHERE t.account > a.account) FROM a WHERE a.account IS NOT NULL
  )
  SELECT a.account FROM a WHERE a.account IS NOT NULL
$fn$;
COMMENT ON FUNCTION "ledger_accounts"() IS 'Every account that holds transactions (deleted rows included), one index probe per account. The row views join it so their plans reach the per-account indexes.';

-- "Every balance move of the last week" and any created_at range: an index range per account.
CREATE OR REPLACE VIEW "running_balance" AS
SELECT t.account, t.balance_type, t.created_at, t.id, t.status, t.amount, t.after_balance, t.description
FROM ledger_accounts() a(account)
JOIN "transactions" t ON t.account = a.account
WHERE t.deleted_at IS NULL;

CREATE OR REPLACE VIEW "top_ups_and_refunds" AS
SELECT t.account, t.id, t.created_at, t.balance_type, t.status, t.amount, t.description,
       CASE WHEN t.description ILIKE '%refund%' THEN 'refund' ELSE 'top_up' END AS kind
FROM ledger_accounts() a(account)
JOIN "transactions" t ON t.account = a.account
WHERE t.amount > 0 AND t.deleted_at IS NULL;

-- The ledger side sums only the zones spent credits were captured in (the daily rollups of UTC and
-- every other registered zone were summed too, then thrown away by the join).
CREATE OR REPLACE VIEW "credit_reconciliation_daily" AS
WITH covered AS (
  SELECT DISTINCT c.account, c.timezone, d::date AS day
  FROM "spent_credit_captures" c, generate_series(c.start_day, c.end_day, interval '1 day') d
),
api AS (
  SELECT account, timezone, day, sum(credits) AS api_spent
  FROM "spent_credits_daily" GROUP BY account, timezone, day
),
ledger AS (
  SELECT r.account, r.timezone, r.day, sum(r.charges) AS ledger_spent, sum(r.charge_count) AS charges
  FROM (SELECT DISTINCT account, timezone FROM "spent_credit_captures") z
  JOIN "ledger_daily_rollups" r ON r.account = z.account AND r.timezone = z.timezone
  WHERE r.status = 'success' AND r.charge_count > 0
  GROUP BY 1, 2, 3
),
watermarks AS (
  SELECT account, watermark FROM "sync_state" WHERE stream = 'transactions'
)
SELECT c.account, c.timezone, c.day,
       COALESCE(a.api_spent, 0) AS api_spent,
       COALESCE(l.ledger_spent, 0) AS ledger_spent,
       COALESCE(a.api_spent, 0) - COALESCE(l.ledger_spent, 0) AS difference,
       COALESCE(l.charges, 0) AS ledger_charges,
       w.watermark IS NOT NULL AND ((c.day + 1)::timestamp AT TIME ZONE c.timezone) <= w.watermark AS ledger_complete
FROM covered c
LEFT JOIN api a USING (account, timezone, day)
LEFT JOIN ledger l USING (account, timezone, day)
LEFT JOIN watermarks w USING (account);

-- Same definition as before except how the days of a span are listed. generate_series called per
-- span is counted by the planner as 1,000 rows a call: the full aggregate's estimate grows with
-- the (day, balance type) rows held (cost 61,600 to 81,800 on the bench's 1M-row ledger) and, past
-- the server's jit_above_cost (100,000 by default), every query pays a JIT compilation: with the
-- threshold lowered to 50,000 on that ledger, 107 to 666 ms instead of 68 to 140 (under load).
-- unnest of the same series collected in an array is counted as 10 rows a span (the real count is
-- 1 for a day with rows followed by one, more across quiet days): cost 1,970. Same rows (compared
-- on the bench's 1M-row ledger), same plan otherwise.
CREATE OR REPLACE VIEW "daily_closing_balance" AS
WITH days_with_rows AS (
  SELECT DISTINCT ON (account, balance_type, day) account, balance_type, day, closing_balance
  FROM "ledger_daily_rollups" WHERE timezone = 'UTC' AND closing_at IS NOT NULL
  ORDER BY account, balance_type, day, closing_at DESC, closing_id DESC
),
spans AS (
  SELECT account, balance_type, day, closing_balance,
         lead(day) OVER (PARTITION BY account, balance_type ORDER BY day) AS next_day
  FROM days_with_rows
)
SELECT s.account, s.balance_type, g::date AS day, s.closing_balance, g::date = s.day AS had_rows
FROM spans s
LEFT JOIN "sync_state" w ON w.account = s.account AND w.stream = 'transactions'
CROSS JOIN LATERAL unnest(ARRAY(SELECT generate_series(s.day,
  COALESCE(s.next_day - 1, GREATEST(s.day, ((w.watermark - interval '1 microsecond') AT TIME ZONE 'UTC')::date)), interval '1 day'))) g;

-- ledger_days(zone) reads the daily rollups for every account that has the zone registered (UTC
-- always, and each zone spent credits were captured in): maintained with the buckets, so the same
-- figures. Other accounts and zones still sum their 15-minute buckets, one account at a time.
CREATE OR REPLACE FUNCTION "ledger_days"(zone text) RETURNS TABLE (
    account text, day date, balance_type text, status text,
    charges numeric, charge_count bigint, top_ups numeric, top_up_count bigint, refunds numeric, refund_count bigint,
    live_rows bigint, deleted_rows bigint, closing_at timestamptz, closing_balance numeric)
LANGUAGE sql STABLE AS $fn$
  SELECT d.account, d.day, d.balance_type, d.status,
         d.charges, d.charge_count::bigint, d.top_ups, d.top_up_count::bigint, d.refunds, d.refund_count::bigint,
         d.live_rows::bigint, d.deleted_rows::bigint, d.closing_at, d.closing_balance
  FROM ledger_daily_rollups d
  WHERE d.timezone = zone
  UNION ALL
  SELECT l.account, l.day, l.balance_type, l.status, l.charges, l.charge_count, l.top_ups, l.top_up_count, l.refunds, l.refund_count,
         l.live_rows, l.deleted_rows, l.closing_at, l.closing_balance
  FROM ledger_accounts() a(account)
  CROSS JOIN LATERAL (
    SELECT l.account, (l.bucket AT TIME ZONE zone)::date AS day, l.balance_type, l.status,
           sum(l.charges) AS charges, sum(l.charge_count) AS charge_count, sum(l.top_ups) AS top_ups, sum(l.top_up_count) AS top_up_count,
           sum(l.refunds) AS refunds, sum(l.refund_count) AS refund_count, sum(l.live_rows) AS live_rows, sum(l.deleted_rows) AS deleted_rows,
           max(l.closing_at) AS closing_at,
           (array_agg(l.closing_balance ORDER BY l.closing_at DESC, l.closing_id DESC) FILTER (WHERE l.closing_at IS NOT NULL))[1] AS closing_balance
    FROM ledger_rollups l WHERE l.account = a.account
    GROUP BY 1, 2, 3, 4
  ) l
  WHERE NOT EXISTS (SELECT 1 FROM ledger_rollup_zones z WHERE z.account = a.account AND z.timezone = zone)
$fn$;
