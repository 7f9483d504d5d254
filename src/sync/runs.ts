import os from "node:os";
import type pg from "pg";
import { type Micros, toPgTimestamp } from "../api/time.js";
import { version } from "../version.js";
import { finishRunSql, markInterruptedSql, startRunSql } from "./sql.js";

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
    watermarkFrom === undefined ? null : toPgTimestamp(watermarkFrom),
    version,
  ]);
  return rows[0]!.id;
}

export async function finishRun(
  db: pg.Pool,
  runId: string,
  outcome: { status: Exclude<RunStatus, "running">; apiRequests: number; retries: number; errorCode?: string; errorMessage?: string },
): Promise<void> {
  await db.query(finishRunSql, [runId, outcome.status, outcome.apiRequests, outcome.retries, outcome.errorCode ?? null, outcome.errorMessage ?? null]);
}
