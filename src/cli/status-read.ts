import type pg from "pg";
import { reconcile } from "../snapshots/reconcile.js";

// What `generect-sync status` reads, in plain SQL over node-postgres: the Prisma client (its
// WebAssembly query compiler) took most of the command's second of start-up for six small reads.

const watermarkSql = `SELECT watermark FROM sync_state WHERE account = $1 AND stream = 'transactions'`;

// ORDER BY sync_runs.id: a bare "id" sorts by the text output column, run 99999 before 100000.
const runsSql = `
SELECT id::text, status, started_at, finished_at, windows_walked, pages, rows_seen, rows_inserted, rows_updated,
       rows_unchanged, rows_deleted, rows_rejected, count_mismatches, api_requests, retries, version, error_message
FROM sync_runs WHERE account = $1 ORDER BY sync_runs.id DESC LIMIT $2`;

const lastSuccessSql = `SELECT finished_at FROM sync_runs WHERE account = $1 AND status = 'succeeded' ORDER BY id DESC LIMIT 1`;

// From the rollups the sync keeps with every window: counting the ledger itself took seconds at a million rows.
const transactionCountsSql = `
SELECT COALESCE(sum(live_rows), 0)::int AS live, COALESCE(sum(deleted_rows), 0)::int AS deleted
FROM ledger_daily_rollups WHERE account = $1 AND timezone = 'UTC'`;

const openQuarantineSql = `SELECT count(*)::int AS open FROM quarantined_rows WHERE account = $1 AND resolved_at IS NULL`;

const lastCapturedDaySql = `SELECT to_char(max(end_day), 'YYYY-MM-DD') AS day FROM spent_credit_captures WHERE account = $1 AND timezone = $2`;

/** The last evidence verify left: its sweep, the chain's head, the last users/me checkpoint (cheap reads, no recomputation). */
const proofsSql = `
SELECT (SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1) AS sweep_at,
       (SELECT windows FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1) AS sweep_windows,
       (SELECT jsonb_array_length(differing) FROM audit_sweeps WHERE account = $1 ORDER BY id DESC LIMIT 1) AS sweep_differing,
       (SELECT head_digest FROM proof_chain WHERE account = $1 ORDER BY seq DESC LIMIT 1) AS head,
       (SELECT count(*)::int FROM proof_chain WHERE account = $1) AS links,
       (SELECT outcome || ' ' || to_char(captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM balance_checkpoints WHERE account = $1 ORDER BY id DESC LIMIT 1) AS checkpoint`;

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
  const sweep = p.sweep_at === null ? "no audit sweep yet" : `last sweep ${p.sweep_at} UTC: ${p.sweep_differing} of ${p.sweep_windows} windows differ`;
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
    pool.query<{ watermark: Date }>(watermarkSql, [account]),
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
