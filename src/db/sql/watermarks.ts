// sync_state: how far each stream of an account is known to be complete.

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
