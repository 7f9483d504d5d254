// Balance checkpoints: each run reads GET /api/auth/users/me/ (balances only) into an append-only
// table; verify compares each one with the ledger's balances per type from its request to its answer.
import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import { inTransaction } from "../db/database.js";
import {
  checkpointComparisonSql,
  checkpointTallySql,
  insertCheckpointSql,
  insertCheckpointValuesSql,
  lastCheckpointComparisonSql,
} from "../db/sql/proofs.js";
import { type DatabaseStep, directly } from "../db/step.js";
import { ApiTestModeError, SyncError } from "../errors.js";

type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Captures a checkpoint. A users/me that fails (an old API without it, an outage past the retry
 * budget, an answer without balances) never fails the run: it is recorded as missing with its code.
 * A test-mode key and an interruption still stop the run, as they would on any request.
 */
export async function captureCheckpoint(
  pool: pg.Pool,
  client: GenerectClient,
  context: { account: string; runId: string; signal?: AbortSignal; onDatabase?: DatabaseStep },
): Promise<{ outcome: "captured" | "missing"; fields: number; errorCode?: string }> {
  const capturedAt = new Date();
  const onDatabase = context.onDatabase ?? directly;
  let balances: Map<string, string>;
  try {
    balances = await client.usersMeBalances();
  } catch (error) {
    if (error instanceof ApiTestModeError || context.signal?.aborted) throw error;
    const errorCode = error instanceof SyncError ? error.code : "UNEXPECTED";
    await onDatabase("the checkpoint", () =>
      pool.query(insertCheckpointSql, [context.account, context.runId, capturedAt, null, "missing", errorCode]),
    );
    return { outcome: "missing", fields: 0, errorCode };
  }
  // Generect computed the balances at some instant between the request and the answer (after the
  // latency and any retries): verify accepts the ledger's balance at any instant of that span.
  // Date.now() is the answer's instant rounded down to the millisecond (rows are stamped to the
  // microsecond), so the span ends at the next millisecond, the first certainly after it, as
  // captured_at, rounded down, is certainly at or before the request.
  const receivedAt = new Date(Date.now() + 1);
  // The checkpoint and its values in one transaction: a lost connection leaves it whole or absent.
  await onDatabase("the checkpoint", () =>
    inTransaction(pool, async (db) => {
      const id = (
        await db.query<{ id: string }>(insertCheckpointSql, [context.account, context.runId, capturedAt, receivedAt, "captured", null])
      ).rows[0]!.id;
      await db.query(insertCheckpointValuesSql, [id, [...balances.keys()], [...balances.values()]]);
    }),
  );
  return { outcome: "captured", fields: balances.size };
}

export interface CheckpointDifference {
  checkpoint: string;
  capturedAt: string;
  /** When the answer arrived: the rows of the type created after capturedAt and up to it were compared too (null: not recorded). */
  receivedAt: string | null;
  field: string;
  api: string;
  ledger: string;
  /** The ledger row whose after_balance was compared (none: no row of that type yet). */
  lastId: string | null;
}

export interface CheckpointCheck {
  captured: number;
  missing: number;
  /** Checkpoints compared (answered before the watermark). */
  judged: number;
  last: string | null;
  /** The latest checkpoint judged, and whether every balance of it agrees. */
  lastJudged: { capturedAt: string; agrees: boolean } | null;
  differing: CheckpointDifference[];
}

interface ComparedBalance {
  checkpoint: string;
  captured_at: string;
  received_at: string | null;
  field: string;
  api: string;
  ledger: string;
  last_id: string | null;
  agrees: boolean;
}

const tallyOf = async (db: Queryable, account: string) =>
  (await db.query<{ captured: number; missing: number; last: string | null }>(checkpointTallySql, [account])).rows[0]!;

/** The last checkpoint of `rows` (ordered by checkpoint), and whether every balance of it agrees. */
function lastJudged(rows: readonly ComparedBalance[]): CheckpointCheck["lastJudged"] {
  const lastRows = rows.filter((r) => r.checkpoint === rows.at(-1)?.checkpoint);
  return lastRows.length ? { capturedAt: lastRows[0]!.captured_at, agrees: lastRows.every((r) => r.agrees) } : null;
}

/** The last judged checkpoint only, as checkCheckpoints gives it, without judging every other one. */
export async function checkLastCheckpoint(db: Queryable, account: string): Promise<Pick<CheckpointCheck, "captured" | "lastJudged">> {
  const { captured } = await tallyOf(db, account);
  const { rows } = await db.query<ComparedBalance>(lastCheckpointComparisonSql, [account]);
  return { captured, lastJudged: lastJudged(rows) };
}

export async function checkCheckpoints(db: Queryable, account: string): Promise<CheckpointCheck> {
  const tally = await tallyOf(db, account);
  const { rows } = await db.query<ComparedBalance>(checkpointComparisonSql, [account]);
  return {
    lastJudged: lastJudged(rows),
    captured: tally.captured,
    missing: tally.missing,
    last: tally.last,
    judged: new Set(rows.map((r) => r.checkpoint)).size,
    differing: rows
      .filter((r) => !r.agrees)
      .map((r) => ({
        checkpoint: r.checkpoint,
        capturedAt: r.captured_at,
        receivedAt: r.received_at,
        field: r.field,
        api: r.api,
        ledger: r.ledger,
        lastId: r.last_id,
      })),
  };
}
