-- Tolerant ingestion (issue #14, item 4). No semicolon may appear inside a string or comment here:
-- the migration runner splits scripts on semicolons.

-- raw becomes the row's JSON text. jsonb cannot hold a NUL character, rejects a lone surrogate and
-- compares -10.100000 equal to -10.1, so it could be neither lossless nor tell a changed number
-- literal. Existing rows are rewritten as the loader writes a row now (compact, the API's documented
-- key order first, each value as jsonb kept it: number literals with their scale), so a row the API
-- sends again unchanged compares equal and gets no new version.
CREATE FUNCTION "generect_raw_text"(doc jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT '{' || string_agg(to_json(e.key)::text || ':' || e.value::text, ',' ORDER BY
    COALESCE(array_position(ARRAY['id','created_at','updated_at','status','balance_type','amount','description','after_balance'], e.key), 99), e.key) || '}'
  FROM jsonb_each(doc) AS e
$fn$;

ALTER TABLE "transactions" ALTER COLUMN "raw" TYPE TEXT USING "generect_raw_text"("raw");
ALTER TABLE "transaction_versions" ALTER COLUMN "raw" TYPE TEXT USING "generect_raw_text"("raw");
DROP FUNCTION "generect_raw_text"(jsonb);

-- Fields the API may leave out or send as null are null here, never a made-up value.
ALTER TABLE "transactions" ALTER COLUMN "updated_at" DROP NOT NULL;
ALTER TABLE "transactions" ALTER COLUMN "description" DROP NOT NULL;
ALTER TABLE "transactions" ALTER COLUMN "after_balance" DROP NOT NULL;
ALTER TABLE "transaction_versions" ALTER COLUMN "updated_at" DROP NOT NULL;
ALTER TABLE "transaction_versions" ALTER COLUMN "description" DROP NOT NULL;
ALTER TABLE "transaction_versions" ALTER COLUMN "after_balance" DROP NOT NULL;

ALTER TABLE "sync_runs" ADD COLUMN "rows_rejected" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "quarantined_rows" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "transaction_id" UUID,
    "reason_code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "raw" TEXT NOT NULL,
    "window_from" TIMESTAMPTZ(6) NOT NULL,
    "window_to" TIMESTAMPTZ(6) NOT NULL,
    "page_offset" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "run_id" BIGINT NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "last_run_id" BIGINT NOT NULL,
    "last_received_at" TIMESTAMPTZ(6) NOT NULL,
    "times_received" INTEGER NOT NULL DEFAULT 1,
    "resolved_at" TIMESTAMPTZ(6),
    "resolution" TEXT,

    CONSTRAINT "quarantined_rows_pkey" PRIMARY KEY ("id")
);

-- One open entry per account and exact text: a row the API keeps sending is counted, not repeated.
CREATE UNIQUE INDEX "quarantined_rows_open_key" ON "quarantined_rows"("account", md5("raw")) WHERE "resolved_at" IS NULL;
CREATE INDEX "quarantined_rows_account_transaction_id_idx" ON "quarantined_rows"("account", "transaction_id");
CREATE INDEX "quarantined_rows_run_id_idx" ON "quarantined_rows"("run_id");

ALTER TABLE "quarantined_rows" ADD CONSTRAINT "quarantined_rows_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

COMMENT ON COLUMN "transactions"."raw" IS 'The row as the API sent it, as JSON text: every value and number literal verbatim (-10.100000 stays so), strings escaped the JSON way (a NUL is \u0000). Cast raw::jsonb where the text holds no \u0000 or lone surrogate.';
COMMENT ON COLUMN "transaction_versions"."raw" IS 'The row as the API sent it in this version, as JSON text (see transactions.raw). A change in this text is a new version.';
COMMENT ON COLUMN "transactions"."updated_at" IS 'When Generect last changed the transaction (UTC, microseconds), a pending row changes when it settles. Null when the API did not send it.';
COMMENT ON COLUMN "transactions"."description" IS 'Generect''s description of the transaction, sanitised: a NUL or a lone surrogate becomes U+FFFD (raw keeps the original). Null when the API sent none.';
COMMENT ON COLUMN "transactions"."after_balance" IS 'Balance of this balance_type after the transaction. Exact. Null when the API sent null or nothing.';
COMMENT ON COLUMN "transactions"."status" IS 'pending (credits reserved, request running), success, or error (charge reversed). Open text: a value the API adds later is stored as sent (sanitised like description).';
COMMENT ON COLUMN "transactions"."balance_type" IS 'Which balance the transaction moved: platform, or older per-product balances such as leads_by_icp. Open text.';
COMMENT ON COLUMN "sync_runs"."rows_rejected" IS 'Rows received in committed windows that could not be a transaction (no id, no created_at, an amount that is not a number...), kept in quarantined_rows.';

COMMENT ON TABLE "quarantined_rows" IS 'Rows the API sent that cannot be stored as a transaction, with their exact text and the reason. The window that held them still committed. Resolve an entry by setting resolved_at and resolution.';
COMMENT ON COLUMN "quarantined_rows"."transaction_id" IS 'The row''s id when it is a readable uuid (such a row still counts as listed: its stored version is not marked deleted).';
COMMENT ON COLUMN "quarantined_rows"."reason_code" IS 'Stable code of the first problem found, such as MISSING_ID, BAD_CREATED_AT, BAD_AMOUNT.';
COMMENT ON COLUMN "quarantined_rows"."reason" IS 'The problem in words, naming the field and the value received.';
COMMENT ON COLUMN "quarantined_rows"."raw" IS 'The row as the API sent it, as JSON text (see transactions.raw).';
COMMENT ON COLUMN "quarantined_rows"."window_from" IS 'Start of the created_at window whose walk received it (inclusive).';
COMMENT ON COLUMN "quarantined_rows"."window_to" IS 'End of that window (exclusive).';
COMMENT ON COLUMN "quarantined_rows"."page_offset" IS 'offset of the page that held it.';
COMMENT ON COLUMN "quarantined_rows"."position" IS 'Its position in that page, from 1.';
COMMENT ON COLUMN "quarantined_rows"."run_id" IS 'sync_runs.id of the run that first received it.';
COMMENT ON COLUMN "quarantined_rows"."received_at" IS 'When it was first received.';
COMMENT ON COLUMN "quarantined_rows"."last_run_id" IS 'sync_runs.id of the latest run that received the same text.';
COMMENT ON COLUMN "quarantined_rows"."last_received_at" IS 'When the same text was last received.';
COMMENT ON COLUMN "quarantined_rows"."times_received" IS 'Committed windows that received this exact text while the entry was open.';
COMMENT ON COLUMN "quarantined_rows"."resolved_at" IS 'Null while the entry needs attention. Set by the sync when a valid version of the same transaction id arrives, or by hand.';
COMMENT ON COLUMN "quarantined_rows"."resolution" IS 'How it was resolved.';
