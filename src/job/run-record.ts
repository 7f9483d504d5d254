import os from "node:os";
import type pg from "pg";
import { withSession } from "../db/database.js";
import { finishRunSql, markInterruptedSql, startRunSql } from "../db/sql/sync-runs.js";
import { formatInstant, type Micros } from "../time.js";
import { version } from "../version.js";

export type RunStatus = "running" | "succeeded" | "failed" | "interrupted";

/** Marks runs a killed process left `running`; safe only while holding the account's lock. */
export async function markAbandonedRuns(db: pg.Pool, account: string, currentRunId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(markInterruptedSql, [account, currentRunId]);
  return rows.map((r) => r.id);
}

export async function startRun(db: pg.Pool, account: string, command: string, watermarkFrom: Micros | undefined): Promise<string> {
  const { rows } = await db.query<{ id: string }>(startRunSql, [
    account,
    command,
    os.hostname(),
    process.pid,
    watermarkFrom === undefined ? null : formatInstant(watermarkFrom),
    version,
  ]);
  return rows[0]!.id;
}

export async function finishRun(
  db: Pick<pg.Pool, "query">,
  runId: string,
  outcome: { status: Exclude<RunStatus, "running">; apiRequests: number; retries: number; errorCode?: string; errorMessage?: string },
): Promise<void> {
  await db.query(finishRunSql, [
    runId,
    outcome.status,
    outcome.apiRequests,
    outcome.retries,
    outcome.errorCode ?? null,
    outcome.errorMessage ?? null,
  ]);
}

/**
 * finishRun on a connection of its own, opened for it: the run's pool may hold connections the
 * failure broke, or be the very thing that failed. Closed whatever happens.
 */
export async function finishRunOnFreshConnection(
  databaseUrl: string,
  runId: string,
  outcome: Parameters<typeof finishRun>[2],
): Promise<void> {
  // A connection lost mid-query fails the query, which is retried.
  await withSession(databaseUrl, (client) => finishRun(client, runId, outcome));
}
