-- Storage v2, item 3 (issue #15): aggregates maintained with the data. No semicolon may appear
-- inside a string or comment here: the migration runner splits scripts on semicolons.

-- One row per account, 15-minute UTC bucket, balance type and status. Every modern IANA offset is a
-- whole number of 15 minutes (+05:30 and +05:45 included), so every local day in every zone is a
-- whole number of buckets: a local-day figure summed from buckets is exact, never apportioned.
-- The sync recomputes the buckets a window touched (its range, and the old bucket of a row that
-- moved) from transactions in the window's own database transaction.
CREATE TABLE "ledger_rollups" (
    "account" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(6) NOT NULL,
    "balance_type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "charges" DECIMAL NOT NULL DEFAULT 0,
    "charge_count" INTEGER NOT NULL DEFAULT 0,
    "top_ups" DECIMAL NOT NULL DEFAULT 0,
    "top_up_count" INTEGER NOT NULL DEFAULT 0,
    "refunds" DECIMAL NOT NULL DEFAULT 0,
    "refund_count" INTEGER NOT NULL DEFAULT 0,
    "live_rows" INTEGER NOT NULL DEFAULT 0,
    "deleted_rows" INTEGER NOT NULL DEFAULT 0,
    "closing_at" TIMESTAMPTZ(6),
    "closing_id" UUID,
    "closing_balance" DECIMAL,

    CONSTRAINT "ledger_rollups_pkey" PRIMARY KEY ("account", "bucket", "balance_type", "status")
);

-- The same aggregate the sync runs per window (src/sync/sql.ts fillRollupsSql), over everything held.
INSERT INTO "ledger_rollups"
SELECT account, date_bin('15 minutes', created_at, timestamptz '2000-01-01 00:00:00+00'), balance_type, status,
       COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount < 0), 0),
       count(*) FILTER (WHERE deleted_at IS NULL AND amount < 0),
       COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND NOT COALESCE(description ILIKE '%refund%', false)), 0),
       count(*) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND NOT COALESCE(description ILIKE '%refund%', false)),
       COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND description ILIKE '%refund%'), 0),
       count(*) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND description ILIKE '%refund%'),
       count(*) FILTER (WHERE deleted_at IS NULL),
       count(*) FILTER (WHERE deleted_at IS NOT NULL),
       max(created_at) FILTER (WHERE deleted_at IS NULL),
       (array_agg(id ORDER BY created_at DESC, id DESC) FILTER (WHERE deleted_at IS NULL))[1],
       (array_agg(after_balance ORDER BY created_at DESC, id DESC) FILTER (WHERE deleted_at IS NULL))[1]
FROM "transactions"
GROUP BY 1, 2, 3, 4;

-- Money in counts here without reading the ledger: "top-ups and refunds this year".
CREATE INDEX "transactions_money_in_idx" ON "transactions"("account", "created_at") WHERE "amount" > 0 AND "deleted_at" IS NULL;

-- The buckets summed into local days, for UTC and for every timezone spent credits were captured in
-- (the zones reconciliation compares in), maintained with the buckets at each window's commit.
CREATE TABLE "ledger_rollup_zones" (
    "account" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,

    CONSTRAINT "ledger_rollup_zones_pkey" PRIMARY KEY ("account", "timezone")
);

CREATE TABLE "ledger_daily_rollups" (
    "account" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "balance_type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "charges" DECIMAL NOT NULL DEFAULT 0,
    "charge_count" INTEGER NOT NULL DEFAULT 0,
    "top_ups" DECIMAL NOT NULL DEFAULT 0,
    "top_up_count" INTEGER NOT NULL DEFAULT 0,
    "refunds" DECIMAL NOT NULL DEFAULT 0,
    "refund_count" INTEGER NOT NULL DEFAULT 0,
    "live_rows" INTEGER NOT NULL DEFAULT 0,
    "deleted_rows" INTEGER NOT NULL DEFAULT 0,
    "closing_at" TIMESTAMPTZ(6),
    "closing_id" UUID,
    "closing_balance" DECIMAL,

    CONSTRAINT "ledger_daily_rollups_pkey" PRIMARY KEY ("account", "timezone", "day", "balance_type", "status")
);

-- daily_closing_balance reads the last live row of each day in this order: no sort at query time.
CREATE INDEX "ledger_daily_rollups_closing_idx" ON "ledger_daily_rollups"("timezone", "account", "balance_type", "day", "closing_at" DESC, "closing_id" DESC) INCLUDE ("closing_balance") WHERE "closing_at" IS NOT NULL;

INSERT INTO "ledger_rollup_zones" ("account", "timezone")
SELECT DISTINCT account, 'UTC' FROM "transactions"
UNION SELECT DISTINCT account, timezone FROM "spent_credit_captures";

-- The same aggregate as src/sync/sql.ts buildZoneRollupsSql.
INSERT INTO "ledger_daily_rollups"
SELECT l.account, z.timezone, (l.bucket AT TIME ZONE z.timezone)::date, l.balance_type, l.status,
       sum(l.charges), sum(l.charge_count), sum(l.top_ups), sum(l.top_up_count), sum(l.refunds), sum(l.refund_count),
       sum(l.live_rows), sum(l.deleted_rows), max(l.closing_at),
       (array_agg(l.closing_id ORDER BY l.closing_at DESC, l.closing_id DESC) FILTER (WHERE l.closing_at IS NOT NULL))[1],
       (array_agg(l.closing_balance ORDER BY l.closing_at DESC, l.closing_id DESC) FILTER (WHERE l.closing_at IS NOT NULL))[1]
FROM "ledger_rollup_zones" z JOIN "ledger_rollups" l ON l.account = z.account
GROUP BY 1, 2, 3, 4, 5;

-- Buckets summed into local days of any IANA timezone: the building block of every daily view.
-- A bucket belongs to the local day its start falls in, exact because buckets never straddle a local midnight.
CREATE FUNCTION "ledger_days"(zone text) RETURNS TABLE (
    account text, day date, balance_type text, status text,
    charges numeric, charge_count bigint, top_ups numeric, top_up_count bigint, refunds numeric, refund_count bigint,
    live_rows bigint, deleted_rows bigint, closing_at timestamptz, closing_balance numeric)
LANGUAGE sql STABLE AS $fn$
  SELECT account, (bucket AT TIME ZONE zone)::date, balance_type, status,
         sum(charges), sum(charge_count), sum(top_ups), sum(top_up_count), sum(refunds), sum(refund_count),
         sum(live_rows), sum(deleted_rows), max(closing_at),
         (array_agg(closing_balance ORDER BY closing_at DESC, closing_id DESC) FILTER (WHERE closing_at IS NOT NULL))[1]
  FROM "ledger_rollups"
  GROUP BY 1, 2, 3, 4
$fn$;

CREATE VIEW "daily_ledger_rollups" AS
SELECT account, day, balance_type, status, charges, charge_count, top_ups, top_up_count, refunds, refund_count,
       live_rows, deleted_rows, closing_at, closing_balance
FROM "ledger_daily_rollups" WHERE timezone = 'UTC';

DROP VIEW "daily_spend_by_balance_type";
CREATE VIEW "daily_spend_by_balance_type" AS
SELECT account, day, balance_type, -charges AS credits_spent, charge_count AS charges
FROM "ledger_daily_rollups"
WHERE timezone = 'UTC' AND status = 'success' AND charge_count > 0;

-- Every UTC day from the balance type's first transaction to the last day the mirror holds (the
-- watermark's, or the last transaction's if later) has a closing balance: a day without a
-- transaction keeps the previous day's.
DROP VIEW "daily_closing_balance";
CREATE VIEW "daily_closing_balance" AS
WITH days_with_rows AS (
  SELECT DISTINCT ON (account, balance_type, day) account, balance_type, day, closing_balance
  FROM "ledger_daily_rollups" WHERE timezone = 'UTC' AND closing_at IS NOT NULL
  ORDER BY account, balance_type, day, closing_at DESC, closing_id DESC
),
-- Each day with rows holds until the next one: no calendar to join, one sort.
spans AS (
  SELECT account, balance_type, day, closing_balance,
         lead(day) OVER (PARTITION BY account, balance_type ORDER BY day) AS next_day
  FROM days_with_rows
)
SELECT s.account, s.balance_type, g::date AS day, s.closing_balance, g::date = s.day AS had_rows
FROM spans s
LEFT JOIN "sync_state" w ON w.account = s.account AND w.stream = 'transactions'
CROSS JOIN LATERAL generate_series(s.day,
  COALESCE(s.next_day - 1, GREATEST(s.day, ((w.watermark - interval '1 microsecond') AT TIME ZONE 'UTC')::date)), interval '1 day') g;

-- The ledger side reads the daily rollups of the capture's zone: every capture registers its zone (src/snapshots/capture.ts).
DROP VIEW "credit_reconciliation_daily";
CREATE VIEW "credit_reconciliation_daily" AS
WITH covered AS (
  SELECT DISTINCT c.account, c.timezone, d::date AS day
  FROM "spent_credit_captures" c, generate_series(c.start_day, c.end_day, interval '1 day') d
),
api AS (
  SELECT account, timezone, day, sum(credits) AS api_spent
  FROM "spent_credits_daily" GROUP BY account, timezone, day
),
ledger AS (
  SELECT account, timezone, day, sum(charges) AS ledger_spent, sum(charge_count) AS charges
  FROM "ledger_daily_rollups"
  WHERE status = 'success' AND charge_count > 0
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

COMMENT ON TABLE "ledger_rollups" IS 'Aggregates of transactions per account, 15-minute UTC bucket, balance type and status, recomputed in the same database transaction as every window the sync commits (moved and deleted rows included), so they always agree with transactions. Sum buckets into local days with ledger_days(zone): exact in every IANA zone, whose offsets are all multiples of 15 minutes.';
COMMENT ON COLUMN "ledger_rollups"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "ledger_rollups"."bucket" IS 'Start of the 15-minute UTC bucket (created_at in [bucket, bucket + 15 minutes)).';
COMMENT ON COLUMN "ledger_rollups"."balance_type" IS 'Which balance the transactions moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "ledger_rollups"."status" IS 'pending, success or error (as in transactions).';
COMMENT ON COLUMN "ledger_rollups"."charges" IS 'Sum of amount of the live charges (amount < 0), negative, exact.';
COMMENT ON COLUMN "ledger_rollups"."charge_count" IS 'Number of live charges (amount < 0).';
COMMENT ON COLUMN "ledger_rollups"."top_ups" IS 'Sum of amount of live positive rows whose description does not mention a refund (top_ups_and_refunds kind top_up).';
COMMENT ON COLUMN "ledger_rollups"."top_up_count" IS 'Number of those top-ups.';
COMMENT ON COLUMN "ledger_rollups"."refunds" IS 'Sum of amount of live positive rows whose description mentions a refund (kind refund).';
COMMENT ON COLUMN "ledger_rollups"."refund_count" IS 'Number of those refunds.';
COMMENT ON COLUMN "ledger_rollups"."live_rows" IS 'Live transactions (deleted_at IS NULL), amount 0 included.';
COMMENT ON COLUMN "ledger_rollups"."deleted_rows" IS 'Transactions the API stopped listing (deleted_at set), counted in no other column.';
COMMENT ON COLUMN "ledger_rollups"."closing_at" IS 'created_at of the bucket''s last live transaction (null when every row is deleted).';
COMMENT ON COLUMN "ledger_rollups"."closing_id" IS 'Its id: ties on created_at are broken by the greater id, as daily_closing_balance does.';
COMMENT ON COLUMN "ledger_rollups"."closing_balance" IS 'Its after_balance: the balance of this balance type at the end of the bucket, for rows of this status.';
COMMENT ON VIEW "daily_ledger_rollups" IS 'ledger_rollups summed per UTC day (ledger_days(''UTC'')). For local days call ledger_days(''Asia/Kolkata'') and so on.';
COMMENT ON VIEW "daily_spend_by_balance_type" IS 'Credits spent per UTC day and balance type (success charges, positive numbers), from ledger_rollups.';
COMMENT ON VIEW "daily_closing_balance" IS 'Balance per balance type at the end of every UTC day from its first transaction to the last day the mirror holds, from ledger_rollups. A day without a transaction keeps the previous closing balance.';
COMMENT ON COLUMN "daily_closing_balance"."closing_balance" IS 'after_balance of the last live transaction on or before the day.';
COMMENT ON COLUMN "daily_closing_balance"."had_rows" IS 'Whether the day had a live transaction of this balance type.';
COMMENT ON COLUMN "daily_closing_balance"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "daily_closing_balance"."balance_type" IS 'Which balance the transaction moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "daily_closing_balance"."day" IS 'UTC day.';
COMMENT ON COLUMN "daily_spend_by_balance_type"."credits_spent" IS 'Credits spent (positive, exact).';
COMMENT ON COLUMN "daily_spend_by_balance_type"."charges" IS 'Number of charges.';
COMMENT ON COLUMN "daily_spend_by_balance_type"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "daily_spend_by_balance_type"."day" IS 'UTC day.';
COMMENT ON COLUMN "daily_spend_by_balance_type"."balance_type" IS 'Which balance the transaction moved (platform, leads_by_icp, ...).';
COMMENT ON VIEW "credit_reconciliation_daily" IS 'Generect-reported spend next to the ledger''s spend (success charges, local day in the snapshot timezone, from ledger_rollups) and their difference, for captured days.';
COMMENT ON COLUMN "credit_reconciliation_daily"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "credit_reconciliation_daily"."timezone" IS 'IANA timezone the days are local to.';
COMMENT ON COLUMN "credit_reconciliation_daily"."day" IS 'Local day in that timezone.';
COMMENT ON COLUMN "credit_reconciliation_daily"."api_spent" IS 'Spend Generect reported for the day (negative).';
COMMENT ON COLUMN "credit_reconciliation_daily"."ledger_spent" IS 'Sum of amount of the day''s success charges in transactions (negative).';
COMMENT ON COLUMN "credit_reconciliation_daily"."difference" IS 'api_spent - ledger_spent, 0 when they agree.';
COMMENT ON COLUMN "credit_reconciliation_daily"."ledger_charges" IS 'Number of success charges in the ledger that day.';
COMMENT ON COLUMN "credit_reconciliation_daily"."ledger_complete" IS 'True when the sync watermark is past the end of the day, so the ledger holds the whole day.';
COMMENT ON COLUMN "daily_ledger_rollups"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "daily_ledger_rollups"."day" IS 'UTC day.';
COMMENT ON COLUMN "daily_ledger_rollups"."balance_type" IS 'Which balance the transactions moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "daily_ledger_rollups"."status" IS 'pending, success or error.';
COMMENT ON COLUMN "daily_ledger_rollups"."charges" IS 'Sum of amount of the day''s live charges (negative, exact).';
COMMENT ON COLUMN "daily_ledger_rollups"."charge_count" IS 'Number of live charges.';
COMMENT ON COLUMN "daily_ledger_rollups"."top_ups" IS 'Sum of the day''s top-ups (positive amounts not mentioning a refund).';
COMMENT ON COLUMN "daily_ledger_rollups"."top_up_count" IS 'Number of top-ups.';
COMMENT ON COLUMN "daily_ledger_rollups"."refunds" IS 'Sum of the day''s refunds (positive amounts whose description mentions a refund).';
COMMENT ON COLUMN "daily_ledger_rollups"."refund_count" IS 'Number of refunds.';
COMMENT ON COLUMN "daily_ledger_rollups"."live_rows" IS 'Live transactions that day.';
COMMENT ON COLUMN "daily_ledger_rollups"."deleted_rows" IS 'Transactions of that day the API stopped listing.';
COMMENT ON COLUMN "daily_ledger_rollups"."closing_at" IS 'created_at of the day''s last live transaction of this balance type and status.';
COMMENT ON COLUMN "daily_ledger_rollups"."closing_balance" IS 'Its after_balance.';

COMMENT ON TABLE "ledger_rollup_zones" IS 'Timezones whose local days ledger_daily_rollups holds per account: UTC, and every zone spent credits were captured in.';
COMMENT ON COLUMN "ledger_rollup_zones"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "ledger_rollup_zones"."timezone" IS 'IANA timezone.';
COMMENT ON TABLE "ledger_daily_rollups" IS 'ledger_rollups summed per local day of each zone in ledger_rollup_zones (UTC always), per balance type and status. Maintained in the same transaction as the buckets, so it always agrees with transactions.';
COMMENT ON COLUMN "ledger_daily_rollups"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "ledger_daily_rollups"."timezone" IS 'IANA timezone the day is local to.';
COMMENT ON COLUMN "ledger_daily_rollups"."day" IS 'Local day in that timezone.';
COMMENT ON COLUMN "ledger_daily_rollups"."balance_type" IS 'Which balance the transactions moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "ledger_daily_rollups"."status" IS 'pending, success or error.';
COMMENT ON COLUMN "ledger_daily_rollups"."charges" IS 'Sum of amount of the day''s live charges (negative, exact).';
COMMENT ON COLUMN "ledger_daily_rollups"."charge_count" IS 'Number of live charges.';
COMMENT ON COLUMN "ledger_daily_rollups"."top_ups" IS 'Sum of the day''s top-ups (positive amounts not mentioning a refund).';
COMMENT ON COLUMN "ledger_daily_rollups"."top_up_count" IS 'Number of top-ups.';
COMMENT ON COLUMN "ledger_daily_rollups"."refunds" IS 'Sum of the day''s refunds (positive amounts whose description mentions a refund).';
COMMENT ON COLUMN "ledger_daily_rollups"."refund_count" IS 'Number of refunds.';
COMMENT ON COLUMN "ledger_daily_rollups"."live_rows" IS 'Live transactions that day.';
COMMENT ON COLUMN "ledger_daily_rollups"."deleted_rows" IS 'Transactions of that day the API stopped listing.';
COMMENT ON COLUMN "ledger_daily_rollups"."closing_at" IS 'created_at of the day''s last live transaction of this balance type and status.';
COMMENT ON COLUMN "ledger_daily_rollups"."closing_id" IS 'Its id (ties on created_at go to the greater id).';
COMMENT ON COLUMN "ledger_daily_rollups"."closing_balance" IS 'Its after_balance.';
