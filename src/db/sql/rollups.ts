// ledger_rollups (15-minute UTC buckets), ledger_daily_rollups (local days, per zone) and
// ledger_rollup_zones: the aggregates a window recomputes in its own transaction.

/**
 * What a transaction counts as in the rollups, decided once per row (the measures below filter on
 * it instead of testing the description four times). A positive row is a refund when its
 * description says so; a positive row without a description is a top-up.
 */
const rollupKind = `CASE WHEN deleted_at IS NOT NULL THEN 'deleted' WHEN amount < 0 THEN 'charge'
  WHEN amount > 0 AND description ILIKE '%refund%' THEN 'refund' WHEN amount > 0 THEN 'top_up' ELSE 'zero' END`;

/**
 * The rollup measures of a set of transactions `t` carrying their rollupKind as `kind` (the same
 * figures as the migration that built ledger_rollups computes).
 * A bucket is 15 minutes of UTC: every IANA offset is a multiple of it, so local days are whole buckets.
 */
const rollupMeasures = `
  COALESCE(sum(amount) FILTER (WHERE kind = 'charge'), 0) AS charges,
  count(*) FILTER (WHERE kind = 'charge') AS charge_count,
  COALESCE(sum(amount) FILTER (WHERE kind = 'top_up'), 0) AS top_ups,
  count(*) FILTER (WHERE kind = 'top_up') AS top_up_count,
  COALESCE(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunds,
  count(*) FILTER (WHERE kind = 'refund') AS refund_count,
  count(*) FILTER (WHERE kind <> 'deleted') AS live_rows,
  count(*) FILTER (WHERE kind = 'deleted') AS deleted_rows,
  max(created_at) FILTER (WHERE kind <> 'deleted') AS closing_at,
  (array_agg(id ORDER BY created_at DESC, id DESC) FILTER (WHERE kind <> 'deleted'))[1] AS closing_id,
  (array_agg(after_balance ORDER BY created_at DESC, id DESC) FILTER (WHERE kind <> 'deleted'))[1] AS closing_balance`;

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

/** See clearRollupsSql. Each row's kind is computed in a subquery kept apart by OFFSET 0: flattened into the join, its CASE would be copied into every measure. */
export const fillRollupsSql = `
INSERT INTO ledger_rollups
SELECT t.account, ${bucketOfCreatedAt} AS bucket, t.balance_type, t.status, ${rollupMeasures}
FROM unnest($2::timestamptz[], $3::timestamptz[]) AS r(lo, hi)
CROSS JOIN LATERAL (
  SELECT x.account, x.id, x.created_at, x.balance_type, x.status, x.amount, x.after_balance, ${rollupKind} AS kind
  FROM transactions x WHERE x.account = $1 AND x.created_at >= r.lo AND x.created_at < r.hi
  OFFSET 0
) t
GROUP BY 1, 2, 3, 4`;

/**
 * Buckets a fresh window computed from the rows it sent (src/sync/written-rollups.ts), in place of
 * fillRollupsSql over them: the same figures, without Postgres reading, sorting and grouping the rows
 * it has just written. Every row a fresh window writes is live, so deleted_rows is 0.
 * The arrays are unnested in the select list, in lockstep (as the batches' columns are, see
 * src/db/sql/transactions.ts).
 * $1 account, $2 buckets, $3 balance types, $4 statuses, $5..$10 charges, charge_count, top_ups,
 * top_up_count, refunds, refund_count, $11 live_rows, $12 closing_at, $13 closing_id, $14 closing_balance.
 */
export const insertComputedRollupsSql = `
INSERT INTO ledger_rollups (account, bucket, balance_type, status, charges, charge_count, top_ups, top_up_count, refunds, refund_count,
                            live_rows, deleted_rows, closing_at, closing_id, closing_balance)
SELECT $1, unnest($2::timestamptz[]), unnest($3::text[]), unnest($4::text[]), unnest($5::numeric[]), unnest($6::int[]),
       unnest($7::numeric[]), unnest($8::int[]), unnest($9::numeric[]), unnest($10::int[]), unnest($11::int[]), 0,
       unnest($12::timestamptz[]), unnest($13::uuid[]), unnest($14::numeric[])`;

/**
 * The buckets (as microseconds since the epoch) rows of a batch leave when it is written: the
 * account's rows held outside the window [$3, $4) (their created_at moved), each looked up by its
 * key (as in upsertPageSql). Read before the batch's upsert.
 * $1 ids, $2 account, $3 window from, $4 window to.
 */
export const movedBucketsSql = `
SELECT DISTINCT t.account, (extract(epoch FROM ${bucketOfCreatedAt}) * 1000000)::bigint::text AS bucket
FROM unnest($1::uuid[]) AS b(id)
CROSS JOIN LATERAL (
  SELECT x.account, x.created_at FROM transactions x WHERE x.account = $2 AND x.id = b.id AND (x.created_at < $3 OR x.created_at >= $4)
  OFFSET 0
) t`;

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

/**
 * The local days, in every zone of the account, that the ranges of clearRollupsSql touch, as spans
 * of whole days: each range's first to last local day, spans that share a day merged (so no bucket
 * is summed twice). A span, not its days one by one: a first run's window covers the account's whole
 * history, and an account of 2,000 rows over three years touches about 1,100 days, most of them
 * empty: read day by day, its daily rollups took 13.5-14 ms of Postgres CPU, as spans 10.5-11
 * (20 such accounts, three rounds in turn).
 */
const touchedSpans = `
range_days AS (
  SELECT z.timezone, (r.lo AT TIME ZONE z.timezone)::date AS first_day, ((r.hi - interval '1 microsecond') AT TIME ZONE z.timezone)::date AS last_day
  FROM ledger_rollup_zones z, unnest($2::timestamptz[], $3::timestamptz[]) AS r(lo, hi)
  WHERE z.account = $1
),
reached AS (
  SELECT timezone, first_day, last_day,
         max(last_day) OVER (PARTITION BY timezone ORDER BY first_day, last_day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
  FROM range_days
),
islands AS (
  SELECT timezone, first_day, last_day,
         count(*) FILTER (WHERE reach IS NULL OR first_day > reach) OVER (PARTITION BY timezone ORDER BY first_day, last_day) AS island
  FROM reached
),
touched AS (
  SELECT timezone, min(first_day) AS first_day, max(last_day) AS last_day FROM islands GROUP BY timezone, island
)`;

/**
 * After the buckets, the local days they touch in every zone of the account go and are summed again
 * from the buckets (a local day is a whole number of buckets in every IANA zone). Same parameters.
 */
export const clearDailyRollupsSql = `
WITH ${touchedSpans}
DELETE FROM ledger_daily_rollups x USING touched d
WHERE x.account = $1 AND x.timezone = d.timezone AND x.day BETWEEN d.first_day AND d.last_day`;

/**
 * See clearDailyRollupsSql. Each span reads its own range of the (account, bucket) key, a lateral
 * subquery kept apart by OFFSET 0: as a plain join, with the statistics of a table still filling
 * (99 buckets estimated for an account holding 46,000), the planner materialized every bucket of
 * the account and filtered them per day, 470 ms a window on a 200,000-row ledger and growing with
 * the ledger (EXPLAIN ANALYZE), where the ranges take a few milliseconds.
 */
export const fillDailyRollupsSql = `
WITH ${touchedSpans}
INSERT INTO ledger_daily_rollups
SELECT $1::text, d.timezone, (l.bucket AT TIME ZONE d.timezone)::date, l.balance_type, l.status, ${dailyMeasures}
FROM touched d CROSS JOIN LATERAL (
  SELECT b.* FROM ledger_rollups b WHERE b.account = $1
    AND b.bucket >= (d.first_day::timestamp AT TIME ZONE d.timezone) AND b.bucket < ((d.last_day + 1)::timestamp AT TIME ZONE d.timezone)
  OFFSET 0
) l
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
