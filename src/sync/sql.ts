// The SQL the sync runs, in one place. Every value is a parameter; columns travel as typed Postgres
// arrays (the raw rows as one JSON array) and are unnested side by side, so a page is one statement
// whatever its size.

/** Columns of a transaction version, in the order the loader's arrays are passed. */
const versionColumns = "created_at, updated_at, status, balance_type, amount, description, after_balance, raw";


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
 * transaction_history's copy of a superseded current row `t`: the columns before and after its
 * validity's end and the change that ended it, which each statement supplies between them.
 */
const historyColumns = `account, id, version_id, valid_from, valid_to, change, run_id, ${versionColumns}, first_seen_at, deleted_at`;
const supersededHead = "t.account, t.id, t.version_id, t.last_seen_at";
const supersededTail =
  "t.last_run_id, t.created_at, t.updated_at, t.status, t.balance_type, t.amount, t.description, t.after_balance, t.raw, t.first_seen_at, t.deleted_at";

/**
 * Insert a batch into a window the database held nothing of: no row can be an update, so the
 * statement skips every comparison and writes each row once (its history starts empty: a version
 * reaches transaction_history only when superseded). A row that does exist anyway (an id seen
 * twice in one walk, or held under another created_at) is left alone here; the returned count is
 * then short and the loader upserts the batch again, which settles it.
 * Same parameters as upsertPageSql.
 */
export const insertNewPageSql = `
WITH ${incomingSql},
written AS (
  INSERT INTO transactions (account, id, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT $10, id, ${versionColumns}, $11, $11, $12 FROM incoming
  ON CONFLICT (account, id) DO NOTHING
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM written`;

/** Whether the database holds any row of the account in [$2, $3): an empty window takes insertNewPageSql. */
export const windowHeldSql = `
SELECT EXISTS (SELECT 1 FROM transactions WHERE account = $1 AND created_at >= $2 AND created_at < $3) AS held`;

/**
 * Upsert one page of the account. A row is rewritten only when its payload (`raw`, compared as
 * exact text: -10.100000 to -10.1 is a change) changed or it was marked deleted; its previous
 * version then moves to transaction_history (valid until $11, ended by an update) in the same
 * statement, and so in the same transaction. Every CTE reads the table as it was before the
 * statement, so the history receives the old values and the UPDATE writes the new ones.
 * $1..$9 arrays, $10 account, $11 seen_at, $12 run id.
 */
export const upsertPageSql = `
WITH ${incomingSql},
changed AS (
  SELECT i.* FROM incoming i JOIN transactions t ON t.account = $10 AND t.id = i.id
  WHERE t.raw IS DISTINCT FROM i.raw OR t.deleted_at IS NOT NULL
),
superseded AS (
  INSERT INTO transaction_history (${historyColumns})
  SELECT ${supersededHead}, $11, 'update', ${supersededTail}
  FROM transactions t JOIN changed c ON t.account = $10 AND t.id = c.id
),
updated AS (
  UPDATE transactions t SET
    created_at = c.created_at,
    updated_at = c.updated_at,
    status = c.status,
    balance_type = c.balance_type,
    amount = c.amount,
    description = c.description,
    after_balance = c.after_balance,
    raw = c.raw,
    last_seen_at = $11,
    last_run_id = $12,
    deleted_at = NULL,
    version_id = nextval('transaction_version_id_seq')
  FROM changed c
  WHERE t.account = $10 AND t.id = c.id
  RETURNING 1
),
inserted AS (
  INSERT INTO transactions (account, id, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT $10, id, ${versionColumns}, $11, $11, $12 FROM incoming i
  WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.account = $10 AND t.id = i.id)
  ON CONFLICT (account, id) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted,
       (SELECT count(*) FROM updated)::int AS updated`;

/**
 * Rows the account holds live in a window that its walk did not return: each is a deletion only
 * once a targeted request confirms it is gone (see window.ts); the other fields find it if it moved
 * (moved.ts). created_at as whole microseconds.
 * $1 account, $2 from, $3 to, $4 ids seen.
 */
export const deletionCandidatesSql = `
SELECT id::text, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_at,
       amount::text AS amount, after_balance::text AS after_balance, balance_type
FROM transactions
WHERE account = $1 AND created_at >= $2 AND created_at < $3
  AND deleted_at IS NULL AND NOT (id = ANY($4::uuid[]))`;

/**
 * Rows whose absence from the API was confirmed: mark them (never delete: auditors keep history),
 * their listed version moving to transaction_history (ended by a delete) as the updates do.
 * $1 account, $2 from, $3 to, $4 ids confirmed gone, $5 seen_at, $6 run id.
 */
export const markDeletedSql = `
WITH gone AS (
  SELECT t.id FROM transactions t
  WHERE t.account = $1 AND t.created_at >= $2 AND t.created_at < $3
    AND t.deleted_at IS NULL AND t.id = ANY($4::uuid[])
),
superseded AS (
  INSERT INTO transaction_history (${historyColumns})
  SELECT ${supersededHead}, $5, 'delete', ${supersededTail}
  FROM transactions t JOIN gone g ON t.account = $1 AND t.id = g.id
),
marked AS (
  UPDATE transactions t SET deleted_at = $5, last_seen_at = $5, last_run_id = $6,
    version_id = nextval('transaction_version_id_seq')
  FROM gone g WHERE t.account = $1 AND t.id = g.id
  RETURNING 1
)
SELECT count(*)::int AS deleted FROM marked`;

/** The statements that write a window's rows: the sync's own, or for a comparison the previous release's (bench). */
export interface WritePath {
  insertNewPage: string;
  upsertPage: string;
  markDeleted: string;
  /** Whether markDeleted runs after the first walk of a window that held nothing (it cannot find anything there). */
  markDeletedInFreshWindows: boolean;
  /** Whether windows keep ledger_rollups (the previous release's schema has no such table). @default true */
  rollups?: boolean;
  /** Whether runs keep the proofs (users/me checkpoint, hash chain): the previous release, and its schema, had none. */
  proofs: boolean;
}

export const writePath: WritePath = { insertNewPage: insertNewPageSql, upsertPage: upsertPageSql, markDeleted: markDeletedSql, markDeletedInFreshWindows: false, proofs: true };

/** The watermark never moves backwards, even if the job's clock does. $1 account, $2 stream, $3 watermark, $4 run id. */
export const advanceWatermarkSql = `
INSERT INTO sync_state (account, stream, watermark, updated_at, run_id)
VALUES ($1, $2, $3, now(), $4)
ON CONFLICT (account, stream) DO UPDATE SET
  watermark = GREATEST(sync_state.watermark, excluded.watermark),
  updated_at = now(),
  run_id = excluded.run_id`;

/** The watermark as whole microseconds since the epoch (a JS Date would drop the microseconds). */
export const readWatermarkSql = `
SELECT (extract(epoch FROM watermark) * 1000000)::bigint::text AS watermark
FROM sync_state WHERE account = $1 AND stream = $2`;

/** Counters of a committed window, added in the window's own transaction so sync_runs never over-reports. */
export const addWindowCountsSql = `
UPDATE sync_runs SET
  windows_walked = windows_walked + 1,
  pages = pages + $2,
  rows_seen = rows_seen + $3,
  rows_inserted = rows_inserted + $4,
  rows_updated = rows_updated + $5,
  rows_unchanged = rows_unchanged + $6,
  rows_deleted = rows_deleted + $7,
  watermark_to = $8,
  rows_rejected = rows_rejected + $9,
  count_mismatches = count_mismatches + $10
WHERE id = $1`;

/**
 * Rows of a committed window that cannot be transactions, with their text and reason. A text
 * already held by an open entry of the account only counts one more receipt: each run re-reading
 * its lookback would otherwise repeat the same entry.
 * $1 account, $2 run id, $3 window from, $4 window to, $5 received at; then, per row, $6 ids (NULL
 * when unreadable), $7 reason codes, $8 reasons, $9 the raw rows as one JSON array, $10 page
 * offsets, $11 positions in the page.
 */
export const quarantineRowsSql = `
INSERT INTO quarantined_rows AS q (account, transaction_id, reason_code, reason, raw, window_from, window_to,
                                   page_offset, position, run_id, received_at, last_run_id, last_received_at)
SELECT $1, r.transaction_id, r.reason_code, r.reason, r.raw_json::text, $3, $4, r.page_offset, r.position, $2, $5, $2, $5
FROM ROWS FROM (unnest($6::uuid[]), unnest($7::text[]), unnest($8::text[]), json_array_elements($9::json),
                unnest($10::int[]), unnest($11::int[]))
  AS r(transaction_id, reason_code, reason, raw_json, page_offset, position)
ON CONFLICT (account, md5(raw)) WHERE resolved_at IS NULL DO UPDATE SET
  last_run_id = excluded.last_run_id,
  last_received_at = excluded.last_received_at,
  times_received = q.times_received + 1`;

/**
 * Open entries whose transaction the window has now received valid: the API corrected the row.
 * $1 account, $2 ids received in the window, $3 of those the ones rejected, $4 when, $5 run id.
 */
export const resolveQuarantinedSql = `
UPDATE quarantined_rows SET resolved_at = $4, resolution = 'a valid version was received by run ' || $5::text
WHERE account = $1 AND resolved_at IS NULL AND transaction_id = ANY($2::uuid[]) AND NOT (transaction_id = ANY($3::uuid[]))`;

export const startRunSql = `
INSERT INTO sync_runs (account, command, status, started_at, host, pid, watermark_from, version)
VALUES ($1, $2, 'running', now(), $3, $4, $5, $6)
RETURNING id::text`;

export const finishRunSql = `
UPDATE sync_runs SET status = $2, finished_at = now(), api_requests = $3, retries = $4,
  error_code = $5, error_message = $6
WHERE id = $1`;

/** Runs left `running` by a killed process; only called while holding the account's lock. */
export const markInterruptedSql = `
UPDATE sync_runs SET status = 'interrupted', finished_at = now(),
  error_code = COALESCE(error_code, 'ABANDONED'),
  error_message = COALESCE(error_message, 'the process ended before finishing the run (killed or crashed)')
WHERE account = $1 AND status = 'running' AND id <> $2
RETURNING id::text`;

/** Session-level advisory lock per account: two int4 keys, a constant for this program and the account's hash. */
export const lockKey = 0x47_53_59_4e; // "GSYN"
export const tryLockSql = `SELECT pg_try_advisory_lock(${lockKey}, hashtext($1)) AS locked`;
export const unlockSql = `SELECT pg_advisory_unlock(${lockKey}, hashtext($1))`;
export const runningRunSql = `
SELECT id::text, started_at, host, pid FROM sync_runs
WHERE account = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`;

/**
 * The rollup measures of a set of transactions (shared with the migration that built ledger_rollups).
 * A bucket is 15 minutes of UTC: every IANA offset is a multiple of it, so local days are whole buckets.
 */
const rollupMeasures = `
  COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount < 0), 0) AS charges,
  count(*) FILTER (WHERE deleted_at IS NULL AND amount < 0) AS charge_count,
  COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND NOT COALESCE(description ILIKE '%refund%', false)), 0) AS top_ups,
  count(*) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND NOT COALESCE(description ILIKE '%refund%', false)) AS top_up_count,
  COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND description ILIKE '%refund%'), 0) AS refunds,
  count(*) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND description ILIKE '%refund%') AS refund_count,
  count(*) FILTER (WHERE deleted_at IS NULL) AS live_rows,
  count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted_rows,
  max(created_at) FILTER (WHERE deleted_at IS NULL) AS closing_at,
  (array_agg(id ORDER BY created_at DESC, id DESC) FILTER (WHERE deleted_at IS NULL))[1] AS closing_id,
  (array_agg(after_balance ORDER BY created_at DESC, id DESC) FILTER (WHERE deleted_at IS NULL))[1] AS closing_balance`;

/** The 15-minute UTC bucket of created_at (every IANA offset is a multiple of 15 minutes). */
const bucketOfCreatedAt = "date_bin('15 minutes', created_at, timestamptz '2000-01-01 00:00:00+00')";

/**
 * Recomputing ledger_rollups over disjoint, bucket-aligned ranges is two statements in the caller's
 * transaction: the ranges' rows go, then the ranges are aggregated again from transactions (the
 * (account, created_at) index). One statement that upserts and deletes only what disappeared
 * needs an anti-join against the fresh aggregate, which the planner ran as a nested loop (3 s for a
 * window of 10,000 rows over existing buckets, measured).
 * $1 account, $2 range starts, $3 range ends (timestamptz[], aligned to 15 minutes, disjoint).
 */
export const clearRollupsSql = `
DELETE FROM ledger_rollups l USING unnest($2::timestamptz[], $3::timestamptz[]) AS r(lo, hi)
WHERE l.account = $1 AND l.bucket >= r.lo AND l.bucket < r.hi`;

/** See clearRollupsSql. */
export const fillRollupsSql = `
INSERT INTO ledger_rollups
SELECT t.account, ${bucketOfCreatedAt} AS bucket, t.balance_type, t.status, ${rollupMeasures}
FROM unnest($2::timestamptz[], $3::timestamptz[]) AS r(lo, hi)
JOIN transactions t ON t.account = $1 AND t.created_at >= r.lo AND t.created_at < r.hi
GROUP BY 1, 2, 3, 4`;

/**
 * The buckets (as microseconds since the epoch) rows of a batch leave when it is written: the
 * account's rows held outside the window [$3, $4) (their created_at moved). Read before the batch's upsert.
 * $1 ids, $2 account, $3 window from, $4 window to.
 */
export const movedBucketsSql = `
SELECT DISTINCT account, (extract(epoch FROM ${bucketOfCreatedAt}) * 1000000)::bigint::text AS bucket FROM transactions
WHERE account = $2 AND id = ANY($1::uuid[]) AND (created_at < $3 OR created_at >= $4)`;

/** A day's (or zone's) figures summed from the buckets `l` of ledger_rollups. */
const dailyMeasures = `
  sum(l.charges) AS charges, sum(l.charge_count) AS charge_count, sum(l.top_ups) AS top_ups, sum(l.top_up_count) AS top_up_count,
  sum(l.refunds) AS refunds, sum(l.refund_count) AS refund_count, sum(l.live_rows) AS live_rows, sum(l.deleted_rows) AS deleted_rows,
  max(l.closing_at) AS closing_at,
  (array_agg(l.closing_id ORDER BY l.closing_at DESC, l.closing_id DESC) FILTER (WHERE l.closing_at IS NOT NULL))[1] AS closing_id,
  (array_agg(l.closing_balance ORDER BY l.closing_at DESC, l.closing_id DESC) FILTER (WHERE l.closing_at IS NOT NULL))[1] AS closing_balance`;

const dailyColumns = "charges, charge_count, top_ups, top_up_count, refunds, refund_count, live_rows, deleted_rows, closing_at, closing_id, closing_balance";
const dailyUpsert = `
  ON CONFLICT (account, timezone, day, balance_type, status) DO UPDATE SET
    ${dailyColumns.split(", ").map((c) => `${c} = excluded.${c}`).join(", ")}
  WHERE (${dailyColumns.split(", ").map((c) => `x.${c}`).join(", ")}) IS DISTINCT FROM (${dailyColumns.split(", ").map((c) => `excluded.${c}`).join(", ")})`;

/** The local days, in every zone of the account, that the ranges of clearRollupsSql touch. */
const touchedDays = `
touched AS (
  SELECT DISTINCT z.timezone, d::date AS day
  FROM ledger_rollup_zones z, unnest($2::timestamptz[], $3::timestamptz[]) AS r(lo, hi),
       generate_series((r.lo AT TIME ZONE z.timezone)::date, ((r.hi - interval '1 microsecond') AT TIME ZONE z.timezone)::date, interval '1 day') d
  WHERE z.account = $1
)`;

/**
 * After the buckets, the local days they touch in every zone of the account go and are summed again
 * from the buckets (a local day is a whole number of buckets in every IANA zone). Same parameters.
 */
export const clearDailyRollupsSql = `
WITH ${touchedDays}
DELETE FROM ledger_daily_rollups x USING touched d
WHERE x.account = $1 AND x.timezone = d.timezone AND x.day = d.day`;

/** See clearDailyRollupsSql. */
export const fillDailyRollupsSql = `
WITH ${touchedDays}
INSERT INTO ledger_daily_rollups
SELECT $1::text, d.timezone, d.day, l.balance_type, l.status, ${dailyMeasures}
FROM touched d JOIN ledger_rollups l ON l.account = $1
  AND l.bucket >= (d.day::timestamp AT TIME ZONE d.timezone) AND l.bucket < ((d.day + 1)::timestamp AT TIME ZONE d.timezone)
GROUP BY 1, 2, 3, 4, 5`;

/**
 * Run first in the window's transaction: no JIT compilation for the rest of it. The daily fill's
 * plan is estimated from generate_series's default of 1,000 days a range and a third of the
 * buckets per day bound, so on a ledger of a million rows its cost passed jit_above_cost and every
 * window compiled it: 1.0 s of JIT for 6 ms of execution (EXPLAIN ANALYZE, 10,000-row window), the
 * bulk of the rollups' upkeep. The window's statements are short: compiling never pays off.
 */
export const noJitSql = "SET LOCAL jit = off";

/** Registers a zone for the account's daily rollups; returns a row when it is new. $1 account, $2 IANA timezone. */
export const addRollupZoneSql = `
INSERT INTO ledger_rollup_zones (account, timezone) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING timezone`;

/** A newly registered zone's days, summed from every bucket the account holds. $1 account, $2 IANA timezone. */
export const buildZoneRollupsSql = `
INSERT INTO ledger_daily_rollups AS x
SELECT l.account, $2::text, (l.bucket AT TIME ZONE $2::text)::date, l.balance_type, l.status, ${dailyMeasures}
FROM ledger_rollups l WHERE l.account = $1
GROUP BY 1, 2, 3, 4, 5
${dailyUpsert}`;
