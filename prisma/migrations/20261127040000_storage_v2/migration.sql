-- Storage v2 (issue #15, items 1, 2 and 4). No semicolon may appear inside a string or comment here:
-- the migration runner splits scripts on semicolons.
--
-- Keys: a transaction is (account, id). Two accounts may hold the same id, and one account's
-- run never writes another's rows.
-- History, system-versioned (the SQL:2011 model): transactions holds each row's current version,
-- current since last_seen_at. transaction_history receives a version only when it is superseded,
-- with its validity [valid_from, valid_to) and the change that ended it (update or delete). A
-- backfill writes each row once. transaction_versions becomes a view with its former columns and
-- meaning, and transactions_as_of(instant) returns the ledger as the mirror held it then.

-- Version numbers keep coming from the former table's sequence, so the view orders old and new alike.
ALTER SEQUENCE "transaction_versions_version_id_seq" OWNED BY NONE;
ALTER SEQUENCE "transaction_versions_version_id_seq" RENAME TO "transaction_version_id_seq";

-- CreateTable
CREATE TABLE "transaction_history" (
    "account" TEXT NOT NULL,
    "id" UUID NOT NULL,
    "version_id" BIGINT NOT NULL,
    "valid_from" TIMESTAMPTZ(6) NOT NULL,
    "valid_to" TIMESTAMPTZ(6) NOT NULL,
    "change" TEXT NOT NULL,
    "run_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6),
    "status" TEXT NOT NULL,
    "balance_type" TEXT NOT NULL,
    "amount" DECIMAL NOT NULL,
    "description" TEXT,
    "after_balance" DECIMAL,
    "raw" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),

    CONSTRAINT "transaction_history_pkey" PRIMARY KEY ("account", "id", "version_id")
);

-- Every superseded version of the former history: each one ends where the next version of the
-- same (account, id) begins, and the next version's change is what ended it. A version whose own
-- change was delete held the row deleted since its seen_at.
INSERT INTO "transaction_history" ("account", "id", "version_id", "valid_from", "valid_to", "change", "run_id",
  "created_at", "updated_at", "status", "balance_type", "amount", "description", "after_balance", "raw", "first_seen_at", "deleted_at")
SELECT "account", "id", "version_id", "seen_at", "next_seen", "next_change", "run_id",
  "created_at", "updated_at", "status", "balance_type", "amount", "description", "after_balance", "raw", "first_seen",
  CASE WHEN "change" = 'delete' THEN "seen_at" END
FROM (
  SELECT v.*, lead(v."seen_at") OVER w AS "next_seen", lead(v."change") OVER w AS "next_change",
         first_value(v."seen_at") OVER w AS "first_seen"
  FROM "transaction_versions" v
  WINDOW w AS (PARTITION BY v."account", v."id" ORDER BY v."version_id")
) s
WHERE "next_seen" IS NOT NULL;

-- AlterTable: the account joins the key, the current version carries its number.
ALTER TABLE "transactions" ADD COLUMN "version_id" BIGINT;
ALTER TABLE "transactions" DROP CONSTRAINT "transactions_pkey";
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_pkey" PRIMARY KEY ("account", "id");

UPDATE "transactions" t SET "version_id" = l."version_id"
FROM (
  SELECT DISTINCT ON ("account", "id") "account", "id", "version_id" FROM "transaction_versions"
  ORDER BY "account", "id", "version_id" DESC
) l
WHERE l."account" = t."account" AND l."id" = t."id";

-- The former key let a second account's run take over a row of the first (both runs succeeded).
-- The versions the first account held are still in the history: its row comes back as it last held it.
INSERT INTO "transactions" ("id", "account", "created_at", "updated_at", "status", "balance_type", "amount", "description",
  "after_balance", "raw", "first_seen_at", "last_seen_at", "deleted_at", "last_run_id", "version_id")
SELECT l."id", l."account", l."created_at", l."updated_at", l."status", l."balance_type", l."amount", l."description",
  l."after_balance", l."raw", l."first_seen", l."seen_at", CASE WHEN l."change" = 'delete' THEN l."seen_at" END, l."run_id", l."version_id"
FROM (
  SELECT DISTINCT ON (v."account", v."id") v.*, min(v."seen_at") OVER (PARTITION BY v."account", v."id") AS "first_seen"
  FROM "transaction_versions" v
  ORDER BY v."account", v."id", v."version_id" DESC
) l
WHERE NOT EXISTS (SELECT 1 FROM "transactions" t WHERE t."account" = l."account" AND t."id" = l."id");

UPDATE "transactions" SET "version_id" = nextval('"transaction_version_id_seq"') WHERE "version_id" IS NULL;
ALTER TABLE "transactions" ALTER COLUMN "version_id" SET DEFAULT nextval('"transaction_version_id_seq"');
ALTER TABLE "transactions" ALTER COLUMN "version_id" SET NOT NULL;

DROP TABLE "transaction_versions";

-- Indexes: the key and (account, created_at) serve the sync and every per-account range, and
-- (account, balance_type, created_at) a balance type's latest row before an instant (statements,
-- closing balances). created_at and status alone served only whole-ledger scans across accounts.
DROP INDEX "transactions_created_at_idx";
DROP INDEX "transactions_status_idx";
DROP INDEX "transactions_balance_type_created_at_idx";
CREATE INDEX "transactions_account_balance_type_created_at_idx" ON "transactions"("account", "balance_type", "created_at");

CREATE INDEX "transaction_history_run_id_idx" ON "transaction_history"("run_id");
ALTER TABLE "transaction_history" ADD CONSTRAINT "transaction_history_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The former table, same columns and meaning: every version ever seen, in order, with the change
-- that made it (insert when first seen, update when the payload changed or a deleted row came
-- back, delete when the API stopped listing it). A filter on account and id reaches the indexes.
CREATE VIEW "transaction_versions" AS
SELECT "version_id", "id", "account", "seen_at", "run_id", "created_at", "updated_at", "status", "balance_type", "amount",
       "description", "after_balance", "raw",
       COALESCE(lag("ended_by") OVER (PARTITION BY "account", "id" ORDER BY "version_id"), 'insert') AS "change"
FROM (
  SELECT "version_id", "id", "account", "valid_from" AS "seen_at", "run_id", "created_at", "updated_at", "status", "balance_type",
         "amount", "description", "after_balance", "raw", "change" AS "ended_by"
  FROM "transaction_history"
  UNION ALL
  SELECT "version_id", "id", "account", "last_seen_at", "last_run_id", "created_at", "updated_at", "status", "balance_type",
         "amount", "description", "after_balance", "raw", NULL
  FROM "transactions"
) v;

-- The ledger exactly as the mirror held it at an instant: per (account, id) the version valid
-- then, deleted rows included with their deleted_at, as transactions would have shown them.
CREATE FUNCTION "transactions_as_of"("at" TIMESTAMPTZ)
RETURNS TABLE ("account" TEXT, "id" UUID, "created_at" TIMESTAMPTZ, "updated_at" TIMESTAMPTZ, "status" TEXT,
               "balance_type" TEXT, "amount" NUMERIC, "description" TEXT, "after_balance" NUMERIC, "raw" TEXT,
               "first_seen_at" TIMESTAMPTZ, "last_seen_at" TIMESTAMPTZ, "deleted_at" TIMESTAMPTZ, "run_id" BIGINT, "version_id" BIGINT)
LANGUAGE sql STABLE AS $fn$
  SELECT t.account, t.id, t.created_at, t.updated_at, t.status, t.balance_type, t.amount, t.description, t.after_balance, t.raw,
         t.first_seen_at, t.last_seen_at, t.deleted_at, t.last_run_id, t.version_id
  FROM transactions t WHERE t.last_seen_at <= "at"
  UNION ALL
  SELECT h.account, h.id, h.created_at, h.updated_at, h.status, h.balance_type, h.amount, h.description, h.after_balance, h.raw,
         h.first_seen_at, h.valid_from, h.deleted_at, h.run_id, h.version_id
  FROM transaction_history h WHERE h.valid_from <= "at" AND h.valid_to > "at"
$fn$;

COMMENT ON TABLE "transactions" IS 'The Generect credit ledger: one row per account and transaction id, its current version (current since last_seen_at). Superseded versions are in transaction_history. Money is exact numeric, times are UTC timestamptz to the microsecond.';
COMMENT ON COLUMN "transactions"."last_seen_at" IS 'When the current version became current: the sync stored a new or changed payload, or the deletion mark.';
COMMENT ON COLUMN "transactions"."version_id" IS 'Number of the current version, from the sequence that numbers every version (see transaction_versions).';
COMMENT ON TABLE "transaction_history" IS 'Superseded versions of transactions (system-versioned history): a version lands here when an update or a deletion replaces it, with its validity interval. Append-only.';
COMMENT ON COLUMN "transaction_history"."version_id" IS 'Number of the version (order of versions).';
COMMENT ON COLUMN "transaction_history"."valid_from" IS 'When the version became current (the seen_at of the run that stored it).';
COMMENT ON COLUMN "transaction_history"."valid_to" IS 'When the next version replaced it (the seen_at of the run that did).';
COMMENT ON COLUMN "transaction_history"."change" IS 'What replaced it: update (a changed payload, or a deleted row listed again) or delete (the API stopped listing it).';
COMMENT ON COLUMN "transaction_history"."run_id" IS 'sync_runs.id of the run that stored the version.';
COMMENT ON COLUMN "transaction_history"."first_seen_at" IS 'When the sync first stored the transaction.';
COMMENT ON COLUMN "transaction_history"."deleted_at" IS 'Set when the version was the deletion mark.';
COMMENT ON VIEW "transaction_versions" IS 'Every version of a transaction the sync ever saw (insert, update, delete), from transactions and transaction_history.';
COMMENT ON COLUMN "transaction_versions"."version_id" IS 'Order of versions.';
COMMENT ON COLUMN "transaction_versions"."seen_at" IS 'When the sync saw this version.';
COMMENT ON COLUMN "transaction_versions"."run_id" IS 'sync_runs.id of the run that saw it.';
COMMENT ON COLUMN "transaction_versions"."raw" IS 'The row as the API sent it in this version, as JSON text (see transactions.raw). A change in this text is a new version.';
COMMENT ON COLUMN "transaction_versions"."change" IS 'insert (first seen), update (payload changed), or delete (no longer listed by the API).';
COMMENT ON FUNCTION "transactions_as_of"(TIMESTAMPTZ) IS 'The ledger as the mirror held it at an instant (versions change at their run''s seen_at): SELECT * FROM transactions_as_of(''2026-11-01T00:00Z'') WHERE account = ... AND deleted_at IS NULL.';
COMMENT ON COLUMN "transaction_versions"."id" IS 'Generect transaction id.';
COMMENT ON COLUMN "transaction_versions"."account" IS 'Account label.';
COMMENT ON COLUMN "transaction_versions"."created_at" IS 'created_at in this version.';
COMMENT ON COLUMN "transaction_versions"."updated_at" IS 'updated_at in this version.';
COMMENT ON COLUMN "transaction_versions"."status" IS 'status in this version.';
COMMENT ON COLUMN "transaction_versions"."balance_type" IS 'balance_type in this version.';
COMMENT ON COLUMN "transaction_versions"."amount" IS 'amount in this version (exact).';
COMMENT ON COLUMN "transaction_versions"."description" IS 'description in this version.';
COMMENT ON COLUMN "transaction_versions"."after_balance" IS 'after_balance in this version (exact).';
COMMENT ON COLUMN "transaction_history"."account" IS 'Account label (SYNC_ACCOUNT).';
COMMENT ON COLUMN "transaction_history"."id" IS 'Generect transaction id.';
COMMENT ON COLUMN "transaction_history"."created_at" IS 'created_at in this version.';
COMMENT ON COLUMN "transaction_history"."updated_at" IS 'updated_at in this version.';
COMMENT ON COLUMN "transaction_history"."status" IS 'status in this version.';
COMMENT ON COLUMN "transaction_history"."balance_type" IS 'balance_type in this version.';
COMMENT ON COLUMN "transaction_history"."amount" IS 'amount in this version (exact).';
COMMENT ON COLUMN "transaction_history"."description" IS 'description in this version.';
COMMENT ON COLUMN "transaction_history"."after_balance" IS 'after_balance in this version (exact).';
COMMENT ON COLUMN "transaction_history"."raw" IS 'The row as the API sent it in this version, as JSON text (see transactions.raw).';
