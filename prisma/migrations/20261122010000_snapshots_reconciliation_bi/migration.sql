-- Daily spent-credit snapshots, reconciliation against the ledger, and BI-facing views.
-- No semicolon inside a string or a comment: @prisma/adapter-pg runs migration scripts split at every semicolon.

-- AlterTable
ALTER TABLE "sync_runs" ADD COLUMN "snapshot_days" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "snapshot_rows" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "snapshot_restated" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "snapshot_total_mismatches" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "spent_credit_snapshots" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "endpoint" TEXT NOT NULL,
    "credits" DECIMAL NOT NULL,
    "captured_at" TIMESTAMPTZ(6) NOT NULL,
    "run_id" BIGINT NOT NULL,

    CONSTRAINT "spent_credit_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "spent_credit_captures" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "start_day" DATE NOT NULL,
    "end_day" DATE NOT NULL,
    "captured_at" TIMESTAMPTZ(6) NOT NULL,
    "run_id" BIGINT NOT NULL,
    "api_total" DECIMAL NOT NULL,
    "values_total" DECIMAL NOT NULL,
    "buckets" INTEGER NOT NULL,

    CONSTRAINT "spent_credit_captures_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "spent_credit_snapshots_account_timezone_day_endpoint_captu_idx" ON "spent_credit_snapshots"("account", "timezone", "day", "endpoint", "captured_at");

-- CreateIndex
CREATE INDEX "spent_credit_captures_account_timezone_end_day_idx" ON "spent_credit_captures"("account", "timezone", "end_day");

-- AddForeignKey
ALTER TABLE "spent_credit_snapshots" ADD CONSTRAINT "spent_credit_snapshots_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "spent_credit_captures" ADD CONSTRAINT "spent_credit_captures_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The latest captured value per (account, timezone, day, endpoint), with the day's total.
CREATE VIEW "spent_credits_daily" AS
SELECT account, timezone, day, endpoint, credits, captured_at,
       sum(credits) OVER (PARTITION BY account, timezone, day) AS day_total
FROM (
  SELECT DISTINCT ON (account, timezone, day, endpoint) account, timezone, day, endpoint, credits, captured_at
  FROM "spent_credit_snapshots"
  ORDER BY account, timezone, day, endpoint, captured_at DESC, id DESC
) latest
WHERE credits <> 0;

-- Reconciliation. Status rule, established against the simulator (and so the API contract as we
-- know it): spend is the sum of `amount` over rows with amount < 0 AND status = 'success' that the
-- API still lists (deleted_at IS NULL). Pending rows are reservations that may still fail, error
-- rows are reversed charges, positive rows (top-ups, refunds) are not spending. Days are local
-- days in the snapshot's timezone, only days covered by a capture appear.
CREATE VIEW "credit_reconciliation_daily" AS
WITH covered AS (
  SELECT DISTINCT c.account, c.timezone, d::date AS day
  FROM "spent_credit_captures" c, generate_series(c.start_day, c.end_day, interval '1 day') d
),
api AS (
  SELECT account, timezone, day, sum(credits) AS api_spent
  FROM "spent_credits_daily" GROUP BY account, timezone, day
),
zones AS (
  SELECT DISTINCT account, timezone FROM "spent_credit_captures"
),
ledger AS (
  SELECT z.account, z.timezone, (t.created_at AT TIME ZONE z.timezone)::date AS day,
         sum(t.amount) AS ledger_spent, count(*) AS charges
  FROM zones z JOIN "transactions" t ON t.account = z.account
  WHERE t.amount < 0 AND t.status = 'success' AND t.deleted_at IS NULL
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

-- Daily spend per balance type, UTC days.
CREATE VIEW "daily_spend_by_balance_type" AS
SELECT account, (created_at AT TIME ZONE 'UTC')::date AS day, balance_type,
       -sum(amount) AS credits_spent, count(*) AS charges
FROM "transactions"
WHERE amount < 0 AND status = 'success' AND deleted_at IS NULL
GROUP BY 1, 2, 3;

-- Running balance: every transaction with the balance after it, in order.
CREATE VIEW "running_balance" AS
SELECT account, balance_type, created_at, id, status, amount, after_balance, description
FROM "transactions"
WHERE deleted_at IS NULL;

-- Closing balance per balance type and UTC day (the after_balance of the day's last transaction).
CREATE VIEW "daily_closing_balance" AS
SELECT DISTINCT ON (account, balance_type, (created_at AT TIME ZONE 'UTC')::date)
       account, balance_type, (created_at AT TIME ZONE 'UTC')::date AS day, after_balance AS closing_balance
FROM "transactions"
WHERE deleted_at IS NULL
ORDER BY account, balance_type, (created_at AT TIME ZONE 'UTC')::date, created_at DESC, id DESC;

-- Money coming in: top-ups and refunds (positive amounts).
CREATE VIEW "top_ups_and_refunds" AS
SELECT account, id, created_at, balance_type, status, amount, description,
       CASE WHEN description ILIKE '%refund%' THEN 'refund' ELSE 'top_up' END AS kind
FROM "transactions"
WHERE amount > 0 AND deleted_at IS NULL;

-- What BI tools show as descriptions.
COMMENT ON TABLE "transactions" IS 'The Generect credit ledger: one row per transaction id, its latest version as the API returned it. Money is exact numeric, times are UTC timestamptz to the microsecond.';
COMMENT ON COLUMN "transactions"."id" IS 'Generect transaction id (uuid).';
COMMENT ON COLUMN "transactions"."account" IS 'Account label (SYNC_ACCOUNT) the row was synced for.';
COMMENT ON COLUMN "transactions"."created_at" IS 'When Generect created the transaction (UTC, microseconds).';
COMMENT ON COLUMN "transactions"."updated_at" IS 'When Generect last changed the transaction (UTC, microseconds), a pending row changes when it settles.';
COMMENT ON COLUMN "transactions"."status" IS 'pending (credits reserved, request running), success, or error (charge reversed).';
COMMENT ON COLUMN "transactions"."balance_type" IS 'Which balance the transaction moved: platform, or older per-product balances such as leads_by_icp.';
COMMENT ON COLUMN "transactions"."amount" IS 'Credits moved: negative for charges, positive for top-ups and refunds. Exact.';
COMMENT ON COLUMN "transactions"."description" IS 'Generect''s description of the transaction.';
COMMENT ON COLUMN "transactions"."after_balance" IS 'Balance of this balance_type after the transaction. Exact.';
COMMENT ON COLUMN "transactions"."raw" IS 'The row exactly as the API sent it (number literals verbatim).';
COMMENT ON COLUMN "transactions"."first_seen_at" IS 'When the sync first stored this transaction.';
COMMENT ON COLUMN "transactions"."last_seen_at" IS 'When the sync stored the current version (a new or changed payload, or the deletion mark).';
COMMENT ON COLUMN "transactions"."deleted_at" IS 'Set when the API stopped listing the transaction, the row is kept for audit. Filter on deleted_at IS NULL for the live ledger.';
COMMENT ON COLUMN "transactions"."last_run_id" IS 'sync_runs.id of the run that wrote the current version.';

COMMENT ON TABLE "transaction_versions" IS 'Append-only history: one row per distinct version of a transaction the sync ever saw (insert, update, delete).';
COMMENT ON COLUMN "transaction_versions"."version_id" IS 'Order of versions.';
COMMENT ON COLUMN "transaction_versions"."id" IS 'Generect transaction id.';
COMMENT ON COLUMN "transaction_versions"."account" IS 'Account label.';
COMMENT ON COLUMN "transaction_versions"."seen_at" IS 'When the sync saw this version.';
COMMENT ON COLUMN "transaction_versions"."run_id" IS 'sync_runs.id of the run that saw it.';
COMMENT ON COLUMN "transaction_versions"."created_at" IS 'created_at in this version.';
COMMENT ON COLUMN "transaction_versions"."updated_at" IS 'updated_at in this version.';
COMMENT ON COLUMN "transaction_versions"."status" IS 'status in this version.';
COMMENT ON COLUMN "transaction_versions"."balance_type" IS 'balance_type in this version.';
COMMENT ON COLUMN "transaction_versions"."amount" IS 'amount in this version (exact).';
COMMENT ON COLUMN "transaction_versions"."description" IS 'description in this version.';
COMMENT ON COLUMN "transaction_versions"."after_balance" IS 'after_balance in this version (exact).';
COMMENT ON COLUMN "transaction_versions"."raw" IS 'The row as the API sent it in this version.';
COMMENT ON COLUMN "transaction_versions"."change" IS 'insert (first seen), update (payload changed), or delete (no longer listed by the API).';

COMMENT ON TABLE "sync_state" IS 'Sync internals: the watermark per account and stream, every transaction created before it has been walked and committed.';
COMMENT ON COLUMN "sync_state"."watermark" IS 'Everything created before this instant is in the database.';
COMMENT ON TABLE "sync_runs" IS 'Sync internals: one row per run of the job, with what it did and how it ended.';
COMMENT ON COLUMN "sync_runs"."status" IS 'running, succeeded, failed, or interrupted (killed or stopped by a signal).';
COMMENT ON COLUMN "sync_runs"."windows_walked" IS 'created_at windows committed by the run.';
COMMENT ON COLUMN "sync_runs"."rows_seen" IS 'Transaction rows received from the API in committed windows.';
COMMENT ON COLUMN "sync_runs"."rows_inserted" IS 'New transactions stored.';
COMMENT ON COLUMN "sync_runs"."rows_updated" IS 'Transactions whose payload changed.';
COMMENT ON COLUMN "sync_runs"."rows_unchanged" IS 'Transactions received again unchanged (not rewritten).';
COMMENT ON COLUMN "sync_runs"."rows_deleted" IS 'Transactions the API stopped listing (marked deleted_at).';
COMMENT ON COLUMN "sync_runs"."api_requests" IS 'HTTP requests made, retries included.';
COMMENT ON COLUMN "sync_runs"."retries" IS 'Requests retried after a network error, 429 or 5xx.';
COMMENT ON COLUMN "sync_runs"."snapshot_days" IS 'Days of spent credits captured.';
COMMENT ON COLUMN "sync_runs"."snapshot_rows" IS 'Snapshot rows written (new or restated values).';
COMMENT ON COLUMN "sync_runs"."snapshot_restated" IS 'Snapshot values that changed since their previous capture.';
COMMENT ON COLUMN "sync_runs"."snapshot_total_mismatches" IS 'spent_credits answers whose total_spent_credits differed from the sum of their values.';

COMMENT ON TABLE "spent_credit_snapshots" IS 'Append-only daily spent credits as Generect reported them: a new row only when a value is new or changed since its previous capture (a restatement keeps both).';
COMMENT ON COLUMN "spent_credit_snapshots"."timezone" IS 'IANA timezone the days are local to (SYNC_TIMEZONE).';
COMMENT ON COLUMN "spent_credit_snapshots"."day" IS 'Local day in that timezone.';
COMMENT ON COLUMN "spent_credit_snapshots"."endpoint" IS 'Generect endpoint label, e.g. /api/linkedin/leads/by_icp/ or platform.';
COMMENT ON COLUMN "spent_credit_snapshots"."credits" IS 'Credits spent that day on that endpoint (negative, exact), 0 when a previously reported value disappeared.';
COMMENT ON COLUMN "spent_credit_snapshots"."captured_at" IS 'When the value was captured.';
COMMENT ON COLUMN "spent_credit_snapshots"."run_id" IS 'sync_runs.id of the capturing run.';
COMMENT ON TABLE "spent_credit_captures" IS 'One row per spent_credits request: the days it covered and whether its total agreed with its values.';
COMMENT ON COLUMN "spent_credit_captures"."api_total" IS 'total_spent_credits as reported.';
COMMENT ON COLUMN "spent_credit_captures"."values_total" IS 'Sum of the values in the same answer, differs from api_total when Generect''s total is inconsistent.';

COMMENT ON VIEW "spent_credits_daily" IS 'Latest captured spent credits per account, timezone, local day and endpoint, with the day''s total.';
COMMENT ON COLUMN "spent_credits_daily"."credits" IS 'Credits spent (negative, exact), latest capture.';
COMMENT ON COLUMN "spent_credits_daily"."day_total" IS 'Sum over the day''s endpoints.';
COMMENT ON VIEW "credit_reconciliation_daily" IS 'Generect-reported spend next to the ledger''s spend (success charges, local day in the snapshot timezone) and their difference, for captured days.';
COMMENT ON COLUMN "credit_reconciliation_daily"."api_spent" IS 'Spend Generect reported for the day (negative).';
COMMENT ON COLUMN "credit_reconciliation_daily"."ledger_spent" IS 'Sum of amount of the day''s success charges in transactions (negative).';
COMMENT ON COLUMN "credit_reconciliation_daily"."difference" IS 'api_spent - ledger_spent, 0 when they agree.';
COMMENT ON COLUMN "credit_reconciliation_daily"."ledger_charges" IS 'Number of success charges in the ledger that day.';
COMMENT ON COLUMN "credit_reconciliation_daily"."ledger_complete" IS 'True when the sync watermark is past the end of the day, so the ledger holds the whole day.';
COMMENT ON VIEW "daily_spend_by_balance_type" IS 'Credits spent per UTC day and balance type (success charges, positive numbers).';
COMMENT ON COLUMN "daily_spend_by_balance_type"."credits_spent" IS 'Credits spent (positive, exact).';
COMMENT ON COLUMN "daily_spend_by_balance_type"."charges" IS 'Number of charges.';
COMMENT ON VIEW "running_balance" IS 'Every live transaction with the balance after it, order by created_at for a balance curve.';
COMMENT ON VIEW "daily_closing_balance" IS 'Balance per balance type at the end of each UTC day that had a transaction.';
COMMENT ON COLUMN "daily_closing_balance"."closing_balance" IS 'after_balance of the day''s last transaction.';
COMMENT ON VIEW "top_ups_and_refunds" IS 'Money in: transactions with a positive amount, kind is refund when the description mentions a refund, else top_up.';
COMMENT ON COLUMN "top_ups_and_refunds"."kind" IS 'top_up or refund (from the description).';
COMMENT ON COLUMN "credit_reconciliation_daily"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "credit_reconciliation_daily"."timezone" IS 'IANA timezone the days are local to.';
COMMENT ON COLUMN "credit_reconciliation_daily"."day" IS 'Local day in that timezone.';
COMMENT ON COLUMN "daily_closing_balance"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "daily_closing_balance"."balance_type" IS 'Which balance the transaction moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "daily_closing_balance"."day" IS 'UTC day.';
COMMENT ON COLUMN "daily_spend_by_balance_type"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "daily_spend_by_balance_type"."day" IS 'UTC day.';
COMMENT ON COLUMN "daily_spend_by_balance_type"."balance_type" IS 'Which balance the transaction moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "running_balance"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "running_balance"."balance_type" IS 'Which balance the transaction moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "running_balance"."created_at" IS 'When Generect created the transaction (UTC).';
COMMENT ON COLUMN "running_balance"."id" IS 'Generect transaction id.';
COMMENT ON COLUMN "running_balance"."status" IS 'pending, success or error.';
COMMENT ON COLUMN "running_balance"."amount" IS 'Credits moved: negative for charges, positive for top-ups and refunds (exact).';
COMMENT ON COLUMN "running_balance"."after_balance" IS 'Balance of this balance_type after the transaction (exact).';
COMMENT ON COLUMN "running_balance"."description" IS 'Generect''s description of the transaction.';
COMMENT ON COLUMN "spent_credit_captures"."id" IS 'Order of captures.';
COMMENT ON COLUMN "spent_credit_captures"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "spent_credit_captures"."timezone" IS 'IANA timezone the days are local to.';
COMMENT ON COLUMN "spent_credit_captures"."start_day" IS 'First local day the request covered.';
COMMENT ON COLUMN "spent_credit_captures"."end_day" IS 'Last local day the request covered.';
COMMENT ON COLUMN "spent_credit_captures"."captured_at" IS 'When the value was captured.';
COMMENT ON COLUMN "spent_credit_captures"."run_id" IS 'sync_runs.id of the run that wrote the row.';
COMMENT ON COLUMN "spent_credit_captures"."buckets" IS 'Days with spend in the answer.';
COMMENT ON COLUMN "spent_credit_snapshots"."id" IS 'Order of captures.';
COMMENT ON COLUMN "spent_credit_snapshots"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "spent_credits_daily"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "spent_credits_daily"."timezone" IS 'IANA timezone the days are local to.';
COMMENT ON COLUMN "spent_credits_daily"."day" IS 'Local day in that timezone.';
COMMENT ON COLUMN "spent_credits_daily"."endpoint" IS 'Generect endpoint label, e.g. /api/linkedin/leads/by_icp/ or platform.';
COMMENT ON COLUMN "spent_credits_daily"."captured_at" IS 'When the value was captured.';
COMMENT ON COLUMN "sync_runs"."id" IS 'Run number, referenced as run_id elsewhere.';
COMMENT ON COLUMN "sync_runs"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "sync_runs"."command" IS 'The command that ran: run, snapshot, or demo.';
COMMENT ON COLUMN "sync_runs"."started_at" IS 'When the run started.';
COMMENT ON COLUMN "sync_runs"."finished_at" IS 'When the run ended (NULL while running).';
COMMENT ON COLUMN "sync_runs"."pages" IS 'Transaction pages received in committed windows.';
COMMENT ON COLUMN "sync_runs"."watermark_from" IS 'The watermark when the run started.';
COMMENT ON COLUMN "sync_runs"."watermark_to" IS 'The end of the last window the run committed.';
COMMENT ON COLUMN "sync_runs"."error_code" IS 'Stable error code when the run failed or was interrupted (see the README).';
COMMENT ON COLUMN "sync_runs"."error_message" IS 'What went wrong, in plain words (no secrets).';
COMMENT ON COLUMN "sync_runs"."host" IS 'Host name of the process that ran.';
COMMENT ON COLUMN "sync_runs"."pid" IS 'Process id of the run.';
COMMENT ON COLUMN "sync_state"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "sync_state"."stream" IS 'What the watermark is for: transactions.';
COMMENT ON COLUMN "sync_state"."updated_at" IS 'When the watermark last moved.';
COMMENT ON COLUMN "sync_state"."run_id" IS 'sync_runs.id of the run that moved it last.';
COMMENT ON COLUMN "top_ups_and_refunds"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "top_ups_and_refunds"."id" IS 'Generect transaction id.';
COMMENT ON COLUMN "top_ups_and_refunds"."created_at" IS 'When Generect created the transaction (UTC).';
COMMENT ON COLUMN "top_ups_and_refunds"."balance_type" IS 'Which balance the transaction moved (platform, leads_by_icp, ...).';
COMMENT ON COLUMN "top_ups_and_refunds"."status" IS 'pending, success or error.';
COMMENT ON COLUMN "top_ups_and_refunds"."amount" IS 'Credits moved: negative for charges, positive for top-ups and refunds (exact).';
COMMENT ON COLUMN "top_ups_and_refunds"."description" IS 'Generect''s description of the transaction.';
