-- Proofs (issue #16). No semicolon may appear inside a string or comment here: the migration
-- runner splits scripts on semicolons.

-- Balance checkpoints: each run's GET /api/auth/users/me/, balances only (never the profile's
-- personal fields). Append-only: a capture that failed is a row with outcome 'missing'.
CREATE TABLE "balance_checkpoints" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "run_id" BIGINT,
    "captured_at" TIMESTAMPTZ(6) NOT NULL,
    "outcome" TEXT NOT NULL,
    "error_code" TEXT,
    CONSTRAINT "balance_checkpoints_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "balance_checkpoints_account_captured_at_idx" ON "balance_checkpoints"("account", "captured_at");
ALTER TABLE "balance_checkpoints" ADD CONSTRAINT "balance_checkpoints_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "balance_checkpoint_values" (
    "checkpoint_id" BIGINT NOT NULL,
    "field" TEXT NOT NULL,
    "value" DECIMAL NOT NULL,
    CONSTRAINT "balance_checkpoint_values_pkey" PRIMARY KEY ("checkpoint_id", "field")
);
ALTER TABLE "balance_checkpoint_values" ADD CONSTRAINT "balance_checkpoint_values_checkpoint_id_fkey" FOREIGN KEY ("checkpoint_id") REFERENCES "balance_checkpoints"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The tamper-evidence chain: one link per committed window, over the versions it wrote.
CREATE TABLE "proof_chain" (
    "seq" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "run_id" BIGINT NOT NULL,
    "window_from" TIMESTAMPTZ(6),
    "window_to" TIMESTAMPTZ(6),
    "first_version_id" BIGINT NOT NULL,
    "last_version_id" BIGINT NOT NULL,
    "versions" INTEGER NOT NULL,
    "leaves" BYTEA NOT NULL,
    "previous_digest" TEXT NOT NULL,
    "head_digest" TEXT NOT NULL,
    "linked_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
    CONSTRAINT "proof_chain_pkey" PRIMARY KEY ("seq")
);
CREATE INDEX "proof_chain_account_seq_idx" ON "proof_chain"("account", "seq");

ALTER TABLE "sync_runs" ADD COLUMN "head_digest" TEXT;

-- Each committed window reads the versions after the chain's last link: by version number.
CREATE INDEX "transactions_account_version_id_idx" ON "transactions"("account", "version_id");
CREATE INDEX "transaction_history_account_version_id_idx" ON "transaction_history"("account", "version_id");

-- Audit sweeps: per window of the whole history, the API's count against the database's live rows.
CREATE TABLE "audit_sweeps" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    "finished_at" TIMESTAMPTZ(6) NOT NULL,
    "swept_from" TIMESTAMPTZ(6),
    "swept_to" TIMESTAMPTZ(6),
    "windows" INTEGER NOT NULL,
    "api_requests" INTEGER NOT NULL,
    "differing" JSONB NOT NULL,
    "repaired" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "audit_sweeps_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "audit_sweeps_account_id_idx" ON "audit_sweeps"("account", "id");

-- The balance chain under each candidate rule: which rows take part in the running balance is
-- not documented, so each live row is checked against its predecessor of the same account and
-- balance type under three rules. all: every row. settled: pending rows left out. success: only
-- success rows. A break is a row whose after_balance is not the previous after_balance + amount.
CREATE VIEW "balance_chain" AS
SELECT c."rule", c."account", c."balance_type", c."id", c."created_at", c."status", c."amount", c."after_balance",
       c."previous_id", c."previous_after_balance",
       c."previous_after_balance" + c."amount" AS "expected",
       (c."previous_id" IS NOT NULL AND c."after_balance" IS DISTINCT FROM c."previous_after_balance" + c."amount") AS "is_break"
FROM (
  SELECT r."rule", t."account", t."balance_type", t."id", t."created_at", t."status", t."amount", t."after_balance",
         lag(t."id") OVER w AS "previous_id", lag(t."after_balance") OVER w AS "previous_after_balance"
  FROM (VALUES ('all'), ('settled'), ('success')) AS r("rule")
  JOIN "transactions" t ON t."deleted_at" IS NULL
   AND (r."rule" = 'all' OR (r."rule" = 'settled' AND t."status" <> 'pending') OR (r."rule" = 'success' AND t."status" = 'success'))
  WINDOW w AS (PARTITION BY r."rule", t."account", t."balance_type" ORDER BY t."created_at", t."id")
) c;

-- The rule an account's data follows: the one with the fewest breaks (all before settled before
-- success on a tie), with the breaks under each rule.
CREATE VIEW "balance_chain_rule" AS
SELECT DISTINCT ON ("account") "account", "rule", "breaks", "checked"
FROM (
  SELECT "account", "rule", count(*) FILTER (WHERE "is_break")::int AS "breaks", count(*) FILTER (WHERE "previous_id" IS NOT NULL)::int AS "checked"
  FROM "balance_chain" GROUP BY "account", "rule"
) s
ORDER BY "account", "breaks", CASE "rule" WHEN 'all' THEN 1 WHEN 'settled' THEN 2 ELSE 3 END;

-- Every break under the account's detected rule: where, expected, found.
CREATE VIEW "balance_chain_breaks" AS
SELECT c."account", c."rule", c."balance_type", c."id", c."created_at", c."status", c."amount",
       c."previous_id", c."previous_after_balance", c."expected", c."after_balance" AS "found"
FROM "balance_chain" c JOIN "balance_chain_rule" r ON r."account" = c."account" AND r."rule" = c."rule"
WHERE c."is_break";

COMMENT ON TABLE "balance_checkpoints" IS 'One row per capture of GET /api/auth/users/me/ (each run, before its transactions pass): outcome captured or missing (the request failed, error_code says how). Append-only.';
COMMENT ON TABLE "balance_checkpoint_values" IS 'The balance_* and blocked_balance_* fields of a checkpoint, exact. No other field of the profile is kept.';
COMMENT ON TABLE "proof_chain" IS 'Tamper evidence: one link per committed window, a SHA-256 chain over the versions it wrote (see README, What verify proves). head_digest of the last link is the history''s digest.';
COMMENT ON COLUMN "sync_runs"."head_digest" IS 'The proof chain''s head digest when the run ended: keep it outside the database to check the history later (generect-sync verify --digest).';
COMMENT ON TABLE "audit_sweeps" IS 'Each audit sweep: per window of the history, the API''s count against the database''s live rows. differing lists the windows that differ.';
COMMENT ON VIEW "balance_chain" IS 'Each live transaction with its predecessor of the same balance type under three rules (all, settled, success): previous after_balance + amount = after_balance, or is_break.';
COMMENT ON VIEW "balance_chain_rule" IS 'The balance-chain rule each account''s data follows: the one with the fewest breaks.';
COMMENT ON VIEW "balance_chain_breaks" IS 'Breaks of the balance chain under the account''s rule: where (id, created_at), expected and found after_balance.';
COMMENT ON COLUMN "balance_checkpoints"."id" IS 'Checkpoint number.';
COMMENT ON COLUMN "balance_checkpoints"."account" IS 'Account label.';
COMMENT ON COLUMN "balance_checkpoints"."run_id" IS 'sync_runs.id of the run that captured it.';
COMMENT ON COLUMN "balance_checkpoints"."captured_at" IS 'When users/me was requested (UTC).';
COMMENT ON COLUMN "balance_checkpoints"."outcome" IS 'captured, or missing when the request failed (the run went on).';
COMMENT ON COLUMN "balance_checkpoints"."error_code" IS 'Why a missing checkpoint is missing (e.g. API_UNAVAILABLE, API_NOT_FOUND).';
COMMENT ON COLUMN "balance_checkpoint_values"."checkpoint_id" IS 'balance_checkpoints.id.';
COMMENT ON COLUMN "balance_checkpoint_values"."field" IS 'The users/me field: balance_<balance_type> or blocked_balance_<balance_type>.';
COMMENT ON COLUMN "balance_checkpoint_values"."value" IS 'Its value as sent, exact.';
COMMENT ON COLUMN "proof_chain"."seq" IS 'Order of links.';
COMMENT ON COLUMN "proof_chain"."account" IS 'Account label: each account has its own chain.';
COMMENT ON COLUMN "proof_chain"."run_id" IS 'sync_runs.id of the run whose window committed the link.';
COMMENT ON COLUMN "proof_chain"."window_from" IS 'Start of the committed window.';
COMMENT ON COLUMN "proof_chain"."window_to" IS 'End of the committed window.';
COMMENT ON COLUMN "proof_chain"."first_version_id" IS 'First version the link covers.';
COMMENT ON COLUMN "proof_chain"."last_version_id" IS 'Last version the link covers: the next link starts after it.';
COMMENT ON COLUMN "proof_chain"."versions" IS 'Versions the link covers.';
COMMENT ON COLUMN "proof_chain"."leaves" IS 'SHA-256 of each version''s canonical encoding, 32 bytes each, in version order.';
COMMENT ON COLUMN "proof_chain"."previous_digest" IS 'Head of the link before (64 zeros for the first).';
COMMENT ON COLUMN "proof_chain"."head_digest" IS 'SHA-256 of previous_digest (hex text) followed by the leaves.';
COMMENT ON COLUMN "proof_chain"."linked_at" IS 'When the link was written.';
COMMENT ON COLUMN "audit_sweeps"."id" IS 'Sweep number.';
COMMENT ON COLUMN "audit_sweeps"."account" IS 'Account label.';
COMMENT ON COLUMN "audit_sweeps"."started_at" IS 'When the sweep started.';
COMMENT ON COLUMN "audit_sweeps"."finished_at" IS 'When the sweep (or the repair''s recount) finished.';
COMMENT ON COLUMN "audit_sweeps"."swept_from" IS 'Start of the swept span: the oldest row, API or database.';
COMMENT ON COLUMN "audit_sweeps"."swept_to" IS 'End of the swept span: the watermark.';
COMMENT ON COLUMN "audit_sweeps"."windows" IS 'Windows compared.';
COMMENT ON COLUMN "audit_sweeps"."api_requests" IS 'Requests the sweep made.';
COMMENT ON COLUMN "audit_sweeps"."differing" IS 'Windows whose API count and live rows differ: from, to, api, database.';
COMMENT ON COLUMN "audit_sweeps"."repaired" IS 'true for the recount after verify --repair walked the differing windows again.';
COMMENT ON COLUMN "balance_chain"."rule" IS 'all (every live row), settled (pending rows left out) or success (success rows only).';
COMMENT ON COLUMN "balance_chain"."account" IS 'Account label.';
COMMENT ON COLUMN "balance_chain"."balance_type" IS 'The running balance this row belongs to.';
COMMENT ON COLUMN "balance_chain"."id" IS 'Generect transaction id.';
COMMENT ON COLUMN "balance_chain"."created_at" IS 'created_at of the row.';
COMMENT ON COLUMN "balance_chain"."status" IS 'Status of the row.';
COMMENT ON COLUMN "balance_chain"."amount" IS 'Amount of the row.';
COMMENT ON COLUMN "balance_chain"."after_balance" IS 'after_balance of the row, as sent.';
COMMENT ON COLUMN "balance_chain"."previous_id" IS 'The row before it under the rule (same account and balance type).';
COMMENT ON COLUMN "balance_chain"."previous_after_balance" IS 'after_balance of the row before.';
COMMENT ON COLUMN "balance_chain"."expected" IS 'previous_after_balance + amount.';
COMMENT ON COLUMN "balance_chain"."is_break" IS 'after_balance is not the expected value.';
COMMENT ON COLUMN "balance_chain_rule"."account" IS 'Account label.';
COMMENT ON COLUMN "balance_chain_rule"."rule" IS 'The rule with the fewest breaks.';
COMMENT ON COLUMN "balance_chain_rule"."breaks" IS 'Breaks under that rule.';
COMMENT ON COLUMN "balance_chain_rule"."checked" IS 'Rows checked under that rule (rows with a predecessor).';
COMMENT ON COLUMN "balance_chain_breaks"."account" IS 'Account label.';
COMMENT ON COLUMN "balance_chain_breaks"."rule" IS 'The account''s detected rule.';
COMMENT ON COLUMN "balance_chain_breaks"."balance_type" IS 'The running balance that breaks.';
COMMENT ON COLUMN "balance_chain_breaks"."id" IS 'The row whose after_balance does not follow.';
COMMENT ON COLUMN "balance_chain_breaks"."created_at" IS 'Its created_at.';
COMMENT ON COLUMN "balance_chain_breaks"."status" IS 'Its status.';
COMMENT ON COLUMN "balance_chain_breaks"."amount" IS 'Its amount.';
COMMENT ON COLUMN "balance_chain_breaks"."previous_id" IS 'The row before it.';
COMMENT ON COLUMN "balance_chain_breaks"."previous_after_balance" IS 'after_balance of the row before.';
COMMENT ON COLUMN "balance_chain_breaks"."expected" IS 'previous_after_balance + amount.';
COMMENT ON COLUMN "balance_chain_breaks"."found" IS 'The after_balance the row carries.';
