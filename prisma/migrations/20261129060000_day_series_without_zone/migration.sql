-- The days of a span are listed as timestamps without a zone, so they do not depend on the
-- session's TimeZone. No semicolon may appear inside a string or comment here: the migration
-- runner splits scripts on semicolons.
--
-- generate_series over two dates resolves to its timestamptz form: the dates become local
-- midnights in the session's TimeZone and the series adds a day of local time at each step. Where
-- a DST change skips midnight (America/Santiago on 2026-09-06, America/Havana, Asia/Beirut,
-- Africa/Cairo) the day of the change starts at 01:00, the series moves to 01:00 from that day on,
-- and the span's last day (its bound at 00:00) is left out: in such a session (a BI tool's report
-- time zone sets it) credit_reconciliation_daily lost the last day of every capture across the
-- change, and daily_closing_balance the last day of every quiet span across it. Over timestamps
-- without a zone every day is 24 hours long. Same definitions as before otherwise (from
-- 20261127070000_bi_plans and 20261129020000_closing_balance_gaps_only), same columns and rows in
-- a UTC session, same plans.

CREATE OR REPLACE VIEW "credit_reconciliation_daily" AS
WITH covered AS (
  SELECT DISTINCT c.account, c.timezone, d::date AS day
  FROM "spent_credit_captures" c, generate_series(c.start_day::timestamp, c.end_day::timestamp, interval '1 day') d
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

CREATE OR REPLACE VIEW "daily_closing_balance" AS
WITH days_with_rows AS (
  SELECT DISTINCT ON (account, balance_type, day) account, balance_type, day, closing_balance
  FROM "ledger_daily_rollups" WHERE timezone = 'UTC' AND closing_at IS NOT NULL
  ORDER BY account, balance_type, day, closing_at DESC, closing_id DESC
),
spans AS (
  SELECT d.account, d.balance_type, d.day, d.closing_balance,
         COALESCE(lead(d.day) OVER (PARTITION BY d.account, d.balance_type ORDER BY d.day) - 1,
                  GREATEST(d.day, ((w.watermark - interval '1 microsecond') AT TIME ZONE 'UTC')::date)) AS last_day
  FROM days_with_rows d
  LEFT JOIN "sync_state" w ON w.account = d.account AND w.stream = 'transactions'
)
SELECT s.account, s.balance_type, g AS day, s.closing_balance, g = s.day AS had_rows
FROM spans s
CROSS JOIN LATERAL unnest(CASE WHEN s.last_day = s.day THEN ARRAY[s.day]
  ELSE ARRAY(SELECT generate_series(s.day::timestamp, s.last_day::timestamp, interval '1 day')::date) END) g;
