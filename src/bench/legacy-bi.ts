// The BI definitions this release's migrations 20261127070000_bi_plans,
// 20261129010000_rollup_views_per_account and 20261129020000_closing_balance_gaps_only replaced,
// verbatim from 20261122010000_snapshots_reconciliation_bi, 20261127050000_daily_rollups and (for
// daily_closing_balance) 20261127070000_bi_plans, so `--bi` can time each changed view both ways
// side by side in one run. They go into a schema of their own in the bench's scratch database; a
// session with `search_path = previous, public` reads them instead.

export const previousSchema = "previous";

/** Relations and functions whose definition changed: a query naming one of them is timed both ways. */
export const changedRelations = [
  "running_balance",
  "top_ups_and_refunds",
  "credit_reconciliation_daily",
  "daily_closing_balance",
  "ledger_days",
  "daily_ledger_rollups",
  "daily_spend_by_balance_type",
];

export const previousDefinitions = [
  `CREATE SCHEMA ${previousSchema}`,
  `CREATE VIEW ${previousSchema}.running_balance AS
SELECT account, balance_type, created_at, id, status, amount, after_balance, description
FROM public.transactions
WHERE deleted_at IS NULL`,
  `CREATE VIEW ${previousSchema}.top_ups_and_refunds AS
SELECT account, id, created_at, balance_type, status, amount, description,
       CASE WHEN description ILIKE '%refund%' THEN 'refund' ELSE 'top_up' END AS kind
FROM public.transactions
WHERE amount > 0 AND deleted_at IS NULL`,
  `CREATE VIEW ${previousSchema}.credit_reconciliation_daily AS
WITH covered AS (
  SELECT DISTINCT c.account, c.timezone, d::date AS day
  FROM public.spent_credit_captures c, generate_series(c.start_day, c.end_day, interval '1 day') d
),
api AS (
  SELECT account, timezone, day, sum(credits) AS api_spent
  FROM public.spent_credits_daily GROUP BY account, timezone, day
),
ledger AS (
  SELECT account, timezone, day, sum(charges) AS ledger_spent, sum(charge_count) AS charges
  FROM public.ledger_daily_rollups
  WHERE status = 'success' AND charge_count > 0
  GROUP BY 1, 2, 3
),
watermarks AS (
  SELECT account, watermark FROM public.sync_state WHERE stream = 'transactions'
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
LEFT JOIN watermarks w USING (account)`,
  `CREATE VIEW ${previousSchema}.daily_closing_balance AS
WITH days_with_rows AS (
  SELECT DISTINCT ON (account, balance_type, day) account, balance_type, day, closing_balance
  FROM public.ledger_daily_rollups WHERE timezone = 'UTC' AND closing_at IS NOT NULL
  ORDER BY account, balance_type, day, closing_at DESC, closing_id DESC
),
spans AS (
  SELECT account, balance_type, day, closing_balance,
         lead(day) OVER (PARTITION BY account, balance_type ORDER BY day) AS next_day
  FROM days_with_rows
)
SELECT s.account, s.balance_type, g::date AS day, s.closing_balance, g::date = s.day AS had_rows
FROM spans s
LEFT JOIN public.sync_state w ON w.account = s.account AND w.stream = 'transactions'
CROSS JOIN LATERAL unnest(ARRAY(SELECT generate_series(s.day,
  COALESCE(s.next_day - 1, GREATEST(s.day, ((w.watermark - interval '1 microsecond') AT TIME ZONE 'UTC')::date)), interval '1 day'))) g`,
  `CREATE FUNCTION ${previousSchema}.ledger_days(zone text) RETURNS TABLE (
    account text, day date, balance_type text, status text,
    charges numeric, charge_count bigint, top_ups numeric, top_up_count bigint, refunds numeric, refund_count bigint,
    live_rows bigint, deleted_rows bigint, closing_at timestamptz, closing_balance numeric)
LANGUAGE sql STABLE AS $fn$
  SELECT account, (bucket AT TIME ZONE zone)::date, balance_type, status,
         sum(charges), sum(charge_count), sum(top_ups), sum(top_up_count), sum(refunds), sum(refund_count),
         sum(live_rows), sum(deleted_rows), max(closing_at),
         (array_agg(closing_balance ORDER BY closing_at DESC, closing_id DESC) FILTER (WHERE closing_at IS NOT NULL))[1]
  FROM public.ledger_rollups
  GROUP BY 1, 2, 3, 4
$fn$`,
  `CREATE VIEW ${previousSchema}.daily_ledger_rollups AS
SELECT account, day, balance_type, status, charges, charge_count, top_ups, top_up_count, refunds, refund_count,
       live_rows, deleted_rows, closing_at, closing_balance
FROM public.ledger_daily_rollups WHERE timezone = 'UTC'`,
  `CREATE VIEW ${previousSchema}.daily_spend_by_balance_type AS
SELECT account, day, balance_type, -charges AS credits_spent, charge_count AS charges
FROM public.ledger_daily_rollups
WHERE timezone = 'UTC' AND status = 'success' AND charge_count > 0`,
];
