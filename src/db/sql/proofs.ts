// The proofs' evidence (generect-sync verify): the hash chain's links (proof_chain), the users/me
// balance checkpoints (balance_checkpoints, balance_checkpoint_values), the audit sweeps
// (audit_sweeps), and the balance-chain views that migration 20261127060000_proofs defines.

export const balanceChainRulesSql = `
SELECT rule, count(*) FILTER (WHERE is_break)::int AS breaks, count(*) FILTER (WHERE previous_id IS NOT NULL)::int AS checked
FROM balance_chain WHERE account = $1 GROUP BY rule`;

export const balanceChainBreaksSql = `
SELECT balance_type, id::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created_at, status,
       amount::text, previous_id::text, previous_after_balance::text, expected::text, after_balance::text AS found
FROM balance_chain WHERE account = $1 AND rule = $2 AND is_break
ORDER BY created_at, id LIMIT $3`;

/**
 * The columns of a chain version, each as the encoding takes it (chain.ts), from a table aliased v.
 * Times in JSON's form (ISO 8601 whatever the session's DateStyle, trailing zeros of the fraction
 * dropped; chain.ts restores them): to_char's format is interpreted per value, and the three of
 * them were half the read-back's cost (1.16 against 0.57 µs a row for to_json, pg_stat_statements).
 */
const chainColumns = `v.account, v.id::text AS id, v.version_id::text AS version_id,
       to_json(v.valid_from AT TIME ZONE 'UTC')::text AS valid_from,
       to_json(v.created_at AT TIME ZONE 'UTC')::text AS created_at,
       to_json(v.updated_at AT TIME ZONE 'UTC')::text AS updated_at,
       v.status, v.balance_type, v.amount::text AS amount, v.description, v.after_balance::text AS after_balance, v.raw`;

/**
 * The row sources of the chain: the versions of an account in (after, upTo], in version order,
 * current ones from transactions (valid since last_seen_at), superseded ones from
 * transaction_history (their valid_from; valid_to is left out, it is set when the version is
 * superseded, after it was chained). The caller merges the two by version_id. Each reads its
 * (account, version_id) index in order: one statement over both tables sorted a window's 10,000
 * wide rows instead (spilling to disk past work_mem, half the statement's time, EXPLAIN ANALYZE),
 * and the transaction_versions view's lag() over every version of the account cannot be narrowed.
 * $1 account, $2 after, $3 up to (version ids as text).
 */
export const chainCurrentVersionsSql = `
SELECT ${chainColumns}
FROM (SELECT account, id, version_id, last_seen_at AS valid_from, created_at, updated_at, status, balance_type, amount, description, after_balance, raw
      FROM transactions WHERE account = $1 AND version_id > $2::bigint AND version_id <= $3::bigint) v
ORDER BY v.version_id`;

/** See chainCurrentVersionsSql. */
export const chainSupersededVersionsSql = `
SELECT ${chainColumns}
FROM transaction_history v WHERE v.account = $1 AND v.version_id > $2::bigint AND v.version_id <= $3::bigint
ORDER BY v.version_id`;

/**
 * Whether the account holds versions after its last link ($2) other than a window's own inserts,
 * which lie in [$3, $4]: versions written before the chain existed, or by hand. Two probes of each
 * table's (account, version_id) index, beside the window's inserts.
 */
export const otherVersionsSql = `
SELECT EXISTS (SELECT 1 FROM transactions WHERE account = $1 AND version_id > $2::bigint AND version_id < $3::bigint)
    OR EXISTS (SELECT 1 FROM transaction_history WHERE account = $1 AND version_id > $2::bigint AND version_id < $3::bigint)
    OR EXISTS (SELECT 1 FROM transactions WHERE account = $1 AND version_id > $4::bigint)
    OR EXISTS (SELECT 1 FROM transaction_history WHERE account = $1 AND version_id > $4::bigint) AS others`;

export const lastLinkSql = `SELECT last_version_id::text AS last_version_id, head_digest FROM proof_chain WHERE account = $1 ORDER BY proof_chain.seq DESC LIMIT 1`;

export const insertLinkSql = `
INSERT INTO proof_chain (account, run_id, window_from, window_to, first_version_id, last_version_id, versions, leaves, previous_digest, head_digest)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

export const linksSql = `
SELECT seq::text, run_id::text, first_version_id::text, last_version_id::text, versions, leaves, previous_digest, head_digest
FROM proof_chain WHERE account = $1 ORDER BY proof_chain.seq`;

export const insertCheckpointSql = `
INSERT INTO balance_checkpoints (account, run_id, captured_at, received_at, outcome, error_code) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text`;

export const insertCheckpointValuesSql = `
INSERT INTO balance_checkpoint_values (checkpoint_id, field, value)
SELECT $1::bigint, f, v FROM unnest($2::text[], $3::numeric[]) AS t(f, v)`;

/** The fields of a checkpoint that are judged: the balance of each type. */
const balanceField = "'balance\\_%'";

/**
 * The checkpoints that can be judged: answered before the watermark (received_at, rounded up, at or
 * before it), the ledger complete up to it. Those recorded without received_at: captured before it.
 */
const judgedCheckpoints = `c.account = $1 AND c.outcome = 'captured'
  AND COALESCE(c.received_at, c.captured_at) <= (SELECT watermark FROM sync_state WHERE account = $1 AND stream = 'transactions')`;

/**
 * Per judged checkpoint and balance_* field (balance_<type>): the API's balance and the
 * after_balance of the latest live row of that type created at or before the capture (0 when there
 * is none). The balance agrees when it is that one, or the after_balance of a live row of that type
 * created after the capture and at or before the answer (received_at): Generect computed it at some
 * instant between the two. Each row of the span counts, each of several sharing one instant too
 * (Generect may have answered between them: their order within it is not documented). Rows at the
 * capture's own instant are in its balance already, deleted rows in none. That second look runs
 * only for a balance the first one misses (OR stops at the first true), as one range of the
 * (account, created_at) index, and never for checkpoints without received_at (compared at
 * captured_at alone). The statements below end its WHERE clause and order it by checkpoint, then
 * field.
 */
const checkpointComparison = `
SELECT c.id::text AS checkpoint, to_char(c.captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS captured_at,
       to_char(c.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS received_at,
       v.field, v.value::text AS api, COALESCE(l.after_balance, 0)::text AS ledger, l.id::text AS last_id,
       COALESCE(l.after_balance, 0) = v.value
         OR (c.received_at IS NOT NULL AND EXISTS (
           SELECT FROM transactions x
           WHERE x.account = c.account AND x.created_at > c.captured_at AND x.created_at <= c.received_at
             AND x.balance_type = substr(v.field, 9) AND x.deleted_at IS NULL AND x.after_balance = v.value)) AS agrees
FROM balance_checkpoints c
JOIN balance_checkpoint_values v ON v.checkpoint_id = c.id
LEFT JOIN LATERAL ledger_balance_at(c.account, substr(v.field, 9), c.captured_at) l ON true
WHERE ${judgedCheckpoints} AND v.field LIKE ${balanceField}`;

/** Every judged checkpoint (verify). */
export const checkpointComparisonSql = `${checkpointComparison}
ORDER BY c.id, v.field`;

/**
 * The last judged checkpoint alone (the statement's line): verify's comparison of every one took
 * 3.7-3.9 s at 35,071 checkpoints on a 1M-row ledger, for the statement to show the last.
 */
export const lastCheckpointComparisonSql = `${checkpointComparison} AND c.id = (
  SELECT c.id FROM balance_checkpoints c
  WHERE ${judgedCheckpoints} AND EXISTS (SELECT FROM balance_checkpoint_values v WHERE v.checkpoint_id = c.id AND v.field LIKE ${balanceField})
  ORDER BY c.id DESC LIMIT 1)
ORDER BY c.id, v.field`;

export const checkpointTallySql = `
SELECT count(*) FILTER (WHERE outcome = 'captured')::int AS captured, count(*) FILTER (WHERE outcome = 'missing')::int AS missing,
       to_char(max(captured_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS last
FROM balance_checkpoints WHERE account = $1`;

/** Live rows per window, one statement: window index = (created_at - from) div span, in microseconds. */
export const windowLiveCountsSql = `
SELECT ((extract(epoch FROM created_at) * 1000000)::bigint - $2::bigint) / $3::bigint AS w, count(*)::int AS n
FROM transactions
WHERE account = $1 AND deleted_at IS NULL AND created_at >= $4 AND created_at < $5
GROUP BY 1`;

/** Live rows in one window [$2, $3), after a repair. */
export const windowLiveCountSql = `SELECT count(*)::int AS n FROM transactions WHERE account = $1 AND deleted_at IS NULL AND created_at >= $2 AND created_at < $3`;

export const recordSweepSql = `
INSERT INTO audit_sweeps (account, started_at, finished_at, swept_from, swept_to, windows, api_requests, differing, repaired)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

/** The number of links of the account's chain. */
export const chainLinkCountSql = `SELECT count(*)::int AS n FROM proof_chain WHERE account = $1`;

/** Versions written after the chain's last link ($2, a version id): none once every window committed its link. */
export const unlinkedVersionsSql = `SELECT (SELECT count(*) FROM transactions WHERE account = $1 AND version_id > $2::bigint)
          + (SELECT count(*) FROM transaction_history WHERE account = $1 AND version_id > $2::bigint) AS n`;

/**
 * Versions whose unchained fields disagree with what their chained ones make them ($1 account). A
 * leaf holds a version's content, not its deletion mark nor its history row's validity, yet the
 * chain fixes both: a version repeating its predecessor's raw is a deletion mark when that one was
 * live (markDeletedSql copies the row) and a re-listing when it was deleted, a version with another
 * raw is live (only a listed row writes one); a superseded version is valid until the next one's
 * valid_from, and was superseded by a deletion exactly when the next one is a mark. Only
 * transactions with a history, or marked deleted, can disagree: the rest are one live version.
 * Each version's raw is read as its md5, so the sort stays narrow. A mark that disagrees comes
 * first: the history row before it then disagrees too, as a consequence.
 */
export const versionMarksSql = `
WITH versions AS (
  SELECT id, version_id, valid_from, valid_to, change, md5(raw) AS content, deleted_at IS NOT NULL AS marked
  FROM transaction_history WHERE account = $1
  UNION ALL
  SELECT t.id, t.version_id, t.last_seen_at, NULL, NULL, md5(t.raw), t.deleted_at IS NOT NULL
  FROM transactions t
  WHERE t.account = $1 AND (t.deleted_at IS NOT NULL OR t.id IN (SELECT h.id FROM transaction_history h WHERE h.account = $1))
),
ordered AS (
  SELECT v.*, content IS DISTINCT FROM lag(content) OVER w AS relisted,
         lead(valid_from) OVER w AS next_from, lead(marked) OVER w AS next_marked
  FROM versions v WINDOW w AS (PARTITION BY id ORDER BY version_id)
),
runs AS (
  SELECT o.*, count(*) FILTER (WHERE relisted) OVER (PARTITION BY id ORDER BY version_id) AS run FROM ordered o
),
judged AS (
  SELECT r.*, row_number() OVER (PARTITION BY id, run ORDER BY version_id) % 2 = 0 AS deletion,
         valid_to IS NOT NULL AND valid_to IS DISTINCT FROM next_from AS validity_differs,
         change IS NOT NULL AND (change = 'delete') IS DISTINCT FROM next_marked AS change_differs
  FROM runs r
)
SELECT id::text, version_id::text, marked, deletion, validity_differs
FROM judged
WHERE marked <> deletion OR validity_differs OR change_differs
ORDER BY marked <> deletion DESC, version_id`;

/** The chain's head digest as stored by its last link. */
export const chainHeadSql = `SELECT head_digest FROM proof_chain WHERE account = $1 ORDER BY seq DESC LIMIT 1`;
