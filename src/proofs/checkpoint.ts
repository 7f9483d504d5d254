// Balance checkpoints: each run reads GET /api/auth/users/me/ (balances only) into an append-only
// table; verify compares each one with the ledger's latest after_balance per type as of its capture.
import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import { ApiTestModeError, SyncError } from "../errors.js";

type Queryable = Pick<pg.ClientBase, "query">;

const insertCheckpointSql = `
INSERT INTO balance_checkpoints (account, run_id, captured_at, outcome, error_code) VALUES ($1, $2, $3, $4, $5) RETURNING id::text`;

const insertValuesSql = `
INSERT INTO balance_checkpoint_values (checkpoint_id, field, value)
SELECT $1::bigint, f, v FROM unnest($2::text[], $3::numeric[]) AS t(f, v)`;

/**
 * Per judged checkpoint and balance_* field: the API's balance and the after_balance of the latest
 * live row of that type created at or before the capture (0 when there is none). Only checkpoints
 * captured before the watermark are judged: the ledger is complete up to it.
 */
const compareSql = `
SELECT c.id::text AS checkpoint, to_char(c.captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS captured_at,
       v.field, v.value::text AS api, COALESCE(l.after_balance, 0)::text AS ledger, l.id::text AS last_id,
       COALESCE(l.after_balance, 0) = v.value AS agrees
FROM balance_checkpoints c
JOIN balance_checkpoint_values v ON v.checkpoint_id = c.id
LEFT JOIN LATERAL (
  SELECT t.after_balance, t.id FROM transactions t
  WHERE t.account = c.account AND t.balance_type = substr(v.field, 9) AND t.deleted_at IS NULL AND t.created_at <= c.captured_at
  ORDER BY t.created_at DESC, t.id DESC LIMIT 1
) l ON true
WHERE c.account = $1 AND c.outcome = 'captured' AND v.field LIKE 'balance\\_%'
  AND c.captured_at <= (SELECT watermark FROM sync_state WHERE account = $1 AND stream = 'transactions')
ORDER BY c.id, v.field`;

const tallySql = `
SELECT count(*) FILTER (WHERE outcome = 'captured')::int AS captured, count(*) FILTER (WHERE outcome = 'missing')::int AS missing,
       to_char(max(captured_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS last
FROM balance_checkpoints WHERE account = $1`;

/**
 * Captures a checkpoint. A users/me that fails (an old API without it, an outage past the retry
 * budget, an answer without balances) never fails the run: it is recorded as missing with its code.
 * A test-mode key and an interruption still stop the run, as they would on any request.
 */
export async function captureCheckpoint(
  db: Queryable,
  client: GenerectClient,
  context: { account: string; runId: string; signal?: AbortSignal },
): Promise<{ outcome: "captured" | "missing"; fields: number; errorCode?: string }> {
  const capturedAt = new Date();
  let balances: Map<string, string>;
  try {
    balances = await client.usersMeBalances();
  } catch (error) {
    if (error instanceof ApiTestModeError || context.signal?.aborted) throw error;
    const errorCode = error instanceof SyncError ? error.code : "UNEXPECTED";
    await db.query(insertCheckpointSql, [context.account, context.runId, capturedAt, "missing", errorCode]);
    return { outcome: "missing", fields: 0, errorCode };
  }
  const id = (await db.query<{ id: string }>(insertCheckpointSql, [context.account, context.runId, capturedAt, "captured", null])).rows[0]!.id;
  await db.query(insertValuesSql, [id, [...balances.keys()], [...balances.values()]]);
  return { outcome: "captured", fields: balances.size };
}

export interface CheckpointDifference {
  checkpoint: string;
  capturedAt: string;
  field: string;
  api: string;
  ledger: string;
  /** The ledger row whose after_balance was compared (none: no row of that type yet). */
  lastId: string | null;
}

export interface CheckpointCheck {
  captured: number;
  missing: number;
  /** Checkpoints compared (captured before the watermark). */
  judged: number;
  last: string | null;
  /** The latest checkpoint judged, and whether every balance of it agrees. */
  lastJudged: { capturedAt: string; agrees: boolean } | null;
  differing: CheckpointDifference[];
}

export async function checkCheckpoints(db: Queryable, account: string): Promise<CheckpointCheck> {
  const tally = (await db.query<{ captured: number; missing: number; last: string | null }>(tallySql, [account])).rows[0]!;
  const { rows } = await db.query<{ checkpoint: string; captured_at: string; field: string; api: string; ledger: string; last_id: string | null; agrees: boolean }>(compareSql, [account]);
  const lastRows = rows.filter((r) => r.checkpoint === rows.at(-1)?.checkpoint);
  return {
    lastJudged: lastRows.length ? { capturedAt: lastRows[0]!.captured_at, agrees: lastRows.every((r) => r.agrees) } : null,
    captured: tally.captured,
    missing: tally.missing,
    last: tally.last,
    judged: new Set(rows.map((r) => r.checkpoint)).size,
    differing: rows.filter((r) => !r.agrees).map((r) => ({
      checkpoint: r.checkpoint, capturedAt: r.captured_at, field: r.field, api: r.api, ledger: r.ledger, lastId: r.last_id,
    })),
  };
}
