// ledger_rollups (15-minute UTC buckets), ledger_daily_rollups (local days, per zone) and
// ledger_rollup_zones: the aggregates a window recomputes in its own transaction.

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

const dailyColumns =
  "charges, charge_count, top_ups, top_up_count, refunds, refund_count, live_rows, deleted_rows, closing_at, closing_id, closing_balance";
const dailyUpsert = `
  ON CONFLICT (account, timezone, day, balance_type, status) DO UPDATE SET
    ${dailyColumns
      .split(", ")
      .map((c) => `${c} = excluded.${c}`)
      .join(", ")}
  WHERE (${dailyColumns
    .split(", ")
    .map((c) => `x.${c}`)
    .join(", ")}) IS DISTINCT FROM (${dailyColumns
    .split(", ")
    .map((c) => `excluded.${c}`)
    .join(", ")})`;

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

/**
 * Run first in the window's transaction: no JIT compilation for the rest of it. The daily fill's
 * plan is estimated from generate_series's default of 1,000 days a range and a third of the
 * buckets per day bound, so on a ledger of a million rows its cost passed jit_above_cost and every
 * window compiled it: 1.0 s of JIT for 6 ms of execution (EXPLAIN ANALYZE, 10,000-row window), the
 * bulk of the rollups' upkeep. The window's statements are short: compiling never pays off.
 */
export const noJitSql = "SET LOCAL jit = off";
