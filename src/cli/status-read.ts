import type pg from "pg";
import { lastCapturedDaySql } from "../db/sql/snapshots.js";
import { lastSuccessSql, openQuarantineSql, proofsSql, runsSql, statusWatermarkSql, transactionCountsSql } from "../db/sql/status.js";
import { reconcile } from "../snapshots/reconcile.js";

// What `generect-sync status` reads, in plain SQL over node-postgres: the Prisma client (its
// WebAssembly query compiler) took most of the command's second of start-up for six small reads.

export interface ProofsRow {
  sweep_at: string | null;
  sweep_windows: number | null;
  sweep_differing: number | null;
  head: string | null;
  links: number;
  checkpoint: string | null;
}

/** The one-line proofs summary of `status`. */
export function describeProofs(p: ProofsRow): string {
  const sweep =
    p.sweep_at === null ? "no audit sweep yet" : `last sweep ${p.sweep_at} UTC: ${p.sweep_differing} of ${p.sweep_windows} windows differ`;
  const chain = p.head === null ? "no chain yet" : `chain head ${p.head.slice(0, 16)}… (${p.links} links)`;
  return `proofs: ${sweep}; ${chain}; last users/me checkpoint ${p.checkpoint ?? "none"} (generect-sync verify checks them all)`;
}

export interface RunRow {
  id: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  windows_walked: number;
  pages: number;
  rows_seen: number;
  rows_inserted: number;
  rows_updated: number;
  rows_unchanged: number;
  rows_deleted: number;
  rows_rejected: number;
  count_mismatches: number;
  api_requests: number;
  retries: number;
  version: string | null;
  error_message: string | null;
}

/** Everything status shows, read concurrently from `pool`. */
export async function readStatus(pool: pg.Pool, query: { account: string; timezone: string; runs: number }) {
  const { account, timezone } = query;
  const [state, runs, lastSuccess, counts, captured, reconciliation, quarantine, proofs] = await Promise.all([
    pool.query<{ watermark: Date }>(statusWatermarkSql, [account]),
    pool.query<RunRow>(runsSql, [account, query.runs]),
    pool.query<{ finished_at: Date | null }>(lastSuccessSql, [account]),
    pool.query<{ live: number; deleted: number }>(transactionCountsSql, [account]),
    pool.query<{ day: string | null }>(lastCapturedDaySql, [account, timezone]),
    reconcile(pool, { account, timezone, tolerance: "0.000001" }),
    pool.query<{ open: number }>(openQuarantineSql, [account]),
    pool.query<ProofsRow>(proofsSql, [account]),
  ]);
  return {
    watermark: state.rows[0]?.watermark,
    runs: runs.rows,
    lastSuccessAt: lastSuccess.rows[0]?.finished_at ?? null,
    live: counts.rows[0]!.live,
    deleted: counts.rows[0]!.deleted,
    lastCapturedDay: captured.rows[0]!.day,
    quarantined: quarantine.rows[0]!.open,
    proofs: proofs.rows[0]!,
    reconciliation,
  };
}
