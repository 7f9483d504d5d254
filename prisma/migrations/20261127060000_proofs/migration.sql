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
