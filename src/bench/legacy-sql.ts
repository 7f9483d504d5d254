// The write path of the release before storage v2 (issue #15), verbatim: every row written twice
// (transactions keyed on id alone, and its first version in transaction_versions). Kept only so
// the bench can measure both side by side in one run, and so the migration test can fill a
// database of the old shape the way that release did. It needs a database migrated up to
// 20261127010000_tolerant_ingestion (see legacyMigrations).
import type { WritePath } from "../db/sql/transactions.js";

/** The migrations that build the old shape these statements write (main's, before storage v2). */
export const legacyMigrations = [
  "20261122000000_init",
  "20261122010000_snapshots_reconciliation_bi",
  "20261127010000_tolerant_ingestion",
  "20261127020000_walk_count_mismatches",
  // Not the ledger's shape: today's run bookkeeping (startRun records the version) runs on both write paths.
  "20261127030000_run_version",
];

/** Columns of a transaction version, in the order the loader's arrays are passed. */
const versionColumns = "created_at, updated_at, status, balance_type, amount, description, after_balance, raw";

const incomingVersionColumns = versionColumns
  .split(", ")
  .map((c) => `i.${c}`)
  .join(", ");

/**
 * The batch's columns as rows: $1 ids, $2..$8 the typed version columns, $9 the raw rows as one JSON
 * array. ROWS FROM zips them by position (a text[] would cost the client an escaped copy of every
 * raw row and Postgres the unescaping). The array is read as json, not jsonb: json keeps each
 * element's exact text (number literals, \u0000 escapes, lone surrogates), which jsonb cannot hold.
 */
const incomingSql = `incoming AS (
  SELECT id, created_at, updated_at, status, balance_type, amount, description, after_balance, raw_json::text AS raw
  FROM ROWS FROM (unnest($1::uuid[]), unnest($2::timestamptz[]), unnest($3::timestamptz[]), unnest($4::text[]),
                  unnest($5::text[]), unnest($6::numeric[]), unnest($7::text[]), unnest($8::numeric[]),
                  json_array_elements($9::json))
    AS t(id, created_at, updated_at, status, balance_type, amount, description, after_balance, raw_json)
)`;

/**
 * Insert a batch into a window the database held nothing of: no row can be an update, so the
 * statement skips ON CONFLICT DO UPDATE's row-by-row comparison and the version join on the
 * update flag (5-10% of Postgres's time per row in 1,000-row batches, measured). A row that does exist anyway (an id seen twice in
 * one walk, or held under another created_at) is left alone here; the returned count is then short
 * and the loader upserts the batch again, which settles it.
 * Same parameters as upsertPageSql.
 */
const insertNewPageSql = `
WITH ${incomingSql},
written AS (
  INSERT INTO transactions (id, account, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT id, $10, ${versionColumns}, $11, $11, $12 FROM incoming
  ON CONFLICT (id) DO NOTHING
  RETURNING id
),
versions AS (
  INSERT INTO transaction_versions (id, account, seen_at, run_id, ${versionColumns}, change)
  SELECT i.id, $10, $11, $12, ${incomingVersionColumns}, 'insert'
  FROM written w JOIN incoming i USING (id)
)
SELECT count(*)::int AS inserted FROM written`;

/**
 * Upsert one page. A row is rewritten only when its payload (`raw`, compared as exact text: -10.100000 to -10.1 is a change) changed,
 * it was marked deleted, or it moved account; every row written also lands in
 * transaction_versions, in the same statement and so in the same transaction.
 * $1..$9 arrays, $10 account, $11 seen_at, $12 run id.
 */
const upsertPageSql = `
WITH ${incomingSql},
written AS (
  INSERT INTO transactions AS t (id, account, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT id, $10, ${versionColumns}, $11, $11, $12 FROM incoming
  ON CONFLICT (id) DO UPDATE SET
    account = excluded.account,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at,
    status = excluded.status,
    balance_type = excluded.balance_type,
    amount = excluded.amount,
    description = excluded.description,
    after_balance = excluded.after_balance,
    raw = excluded.raw,
    last_seen_at = excluded.last_seen_at,
    last_run_id = excluded.last_run_id,
    deleted_at = NULL
  WHERE t.raw IS DISTINCT FROM excluded.raw
     OR t.deleted_at IS NOT NULL
     OR t.account IS DISTINCT FROM excluded.account
  RETURNING t.id, (xmax = 0) AS inserted
),
versions AS (
  INSERT INTO transaction_versions (id, account, seen_at, run_id, ${versionColumns}, change)
  SELECT i.id, $10, $11, $12, ${incomingVersionColumns},
         CASE WHEN w.inserted THEN 'insert' ELSE 'update' END
  FROM written w JOIN incoming i USING (id)
)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
       count(*) FILTER (WHERE NOT inserted)::int AS updated
FROM written`;

/**
 * Rows whose absence from the API was confirmed: mark them (never delete: auditors keep history)
 * and record a version. $1 account, $2 from, $3 to, $4 ids confirmed gone, $5 seen_at, $6 run id.
 */
const markDeletedSql = `
WITH gone AS (
  UPDATE transactions t SET deleted_at = $5, last_seen_at = $5, last_run_id = $6
  WHERE t.account = $1 AND t.created_at >= $2 AND t.created_at < $3
    AND t.deleted_at IS NULL AND t.id = ANY($4::uuid[])
  RETURNING t.*
),
versions AS (
  INSERT INTO transaction_versions (id, account, seen_at, run_id, ${versionColumns}, change)
  SELECT id, account, $5, $6, ${versionColumns}, 'delete' FROM gone
)
SELECT count(*)::int AS deleted FROM gone`;

export const legacyWritePath: WritePath = {
  insertNewPage: insertNewPageSql,
  insertNewPageInSavepoint: false,
  insertCheckedPage: insertNewPageSql,
  parameters: "text",
  upsertPage: upsertPageSql,
  markDeleted: markDeletedSql,
  markDeletedInFreshWindows: true,
  rollups: false,
  proofs: false,
};
