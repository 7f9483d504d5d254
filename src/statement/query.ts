// Computes a Statement from the current schema. Every figure is a Postgres numeric turned into text
// by src/db/sql/statement.ts; this module only arranges rows, so no money ever passes through a JS number.
import type pg from "pg";
import {
  DAYS_SQL,
  LAST_SWEEP_SQL,
  LINES_SQL,
  PROOFS_EXIST_SQL,
  PROVENANCE_SQL,
  QUARANTINE_COUNT_SQL,
  QUARANTINE_EXISTS_SQL,
  RANGE_SQL,
} from "../db/sql/statement.js";
import { checkBalanceChain } from "../proofs/balance-chain.js";
import { checkLastCheckpoint } from "../proofs/checkpoint.js";
import { notAvailable, type Proof, type Statement, type StatementDay, type StatementLine } from "./model.js";

/** Generect's endpoint labels (spent_credits) per balance type, as the API reference lists them. */
export const ENDPOINT_BALANCE_TYPES: Readonly<Record<string, string>> = {
  "/api/linkedin/leads/by_icp/": "leads_by_icp",
  "/api/linkedin/lead/by_link/": "lead_by_link",
  "/api/linkedin/companies/by_icp/": "companies_by_icp",
  "/api/linkedin/company/by_link/": "company_by_link",
  "/api/linkedin/email_finder/": "email_finder",
  "/api/linkedin/email_verifier/": "email_verifier",
  platform: "platform",
};

export interface StatementOptions {
  account: string;
  timezone: string;
  /** YYYY-MM; default: the month of the account's oldest live transaction. */
  from?: string;
  /** YYYY-MM; default: the current month in the timezone. */
  to?: string;
  version: string;
  now?: Date;
}

type Queryable = Pick<pg.Client, "query">;

export async function buildStatement(db: Queryable, opts: StatementOptions): Promise<Statement> {
  const { account, timezone } = opts;
  const range = (await db.query<{ first: string | null; current: string }>(RANGE_SQL, [account, timezone])).rows[0]!;
  const from = opts.from ?? range.first ?? range.current;
  const to = opts.to ?? range.current;
  const params = [account, timezone, `${from}-01`, `${to}-01`];
  // One connection answers one query at a time: in sequence, not Promise.all.
  const lines = await db.query<Omit<StatementLine, "account">>(LINES_SQL, [
    ...params,
    Object.keys(ENDPOINT_BALANCE_TYPES),
    Object.values(ENDPOINT_BALANCE_TYPES),
  ]);
  const days = await db.query<StatementDay>(DAYS_SQL, params);
  const prov = await db.query<{ first_run_id: string | null; last_run_id: string | null; watermark: string | null }>(PROVENANCE_SQL, [
    account,
  ]);
  const provenance = prov.rows[0]!;
  const statementLines = lines.rows.map((l) => ({ account, ...l }));
  const incomplete = days.rows.filter((d) => d.state === "incomplete");
  const notices: string[] = [];
  if (provenance.watermark === null && provenance.first_run_id === null)
    notices.push(`account "${account}" has never been synced: this statement holds no figures, not zeros`);
  else if (provenance.watermark === null)
    notices.push(
      `account "${account}" has no watermark: its runs (${provenance.first_run_id} to ${provenance.last_run_id}) walked no transactions, this statement holds no figures, not zeros`,
    );
  else if (range.first === null) notices.push(`account "${account}" holds no transactions`);
  const partMonths = [...new Set(statementLines.filter((l) => !l.complete).map((l) => l.month))];
  if (provenance.watermark !== null && partMonths.length) {
    notices.push(
      `the ledger is synced up to ${provenance.watermark}: ${partMonths.join(", ")} not yet complete, their figures may still grow`,
    );
  }
  if (incomplete.length) notices.push(`${incomplete.length} day(s) not yet complete in the ledger, from ${incomplete[0]!.day}`);

  return {
    account,
    from,
    to,
    notices,
    lines: statementLines,
    days: days.rows,
    proofs: {
      ...(await proofs(db, account)),
      quarantined_rows: await quarantined(db, account),
      days_not_complete: { available: true, value: { count: incomplete.length, first: incomplete[0]?.day ?? null } },
      days_differing: { available: true, value: days.rows.filter((d) => d.state === "differs").length },
    },
    provenance: {
      generated_at: (opts.now ?? new Date()).toISOString(),
      version: opts.version,
      timezone,
      ...provenance,
    },
  };
}

/** The proofs of #16 (generect-sync verify): chain breaks under the detected rule, the last judged checkpoint, the last sweep. */
async function proofs(
  db: Queryable,
  account: string,
): Promise<Pick<Statement["proofs"], "balance_chain_breaks" | "users_me_checkpoint" | "audit_sweep">> {
  const { rows } = await db.query<{ present: boolean }>(PROOFS_EXIST_SQL);
  if (!rows[0]?.present) {
    const missing = notAvailable("not available yet: this database has no proofs tables (run generect-sync migrate)");
    return { balance_chain_breaks: missing, users_me_checkpoint: missing, audit_sweep: missing };
  }
  const chain = await checkBalanceChain(db, account, 0);
  const checkpoints = await checkLastCheckpoint(db, account);
  const sweep = (await db.query<{ at: string; windows: number; differing: number }>(LAST_SWEEP_SQL, [account])).rows[0];
  return {
    balance_chain_breaks: chain.rule === undefined ? notAvailable("no transactions to chain") : { available: true, value: chain.breaks },
    users_me_checkpoint: checkpoints.lastJudged
      ? { available: true, value: { at: checkpoints.lastJudged.capturedAt, agrees: checkpoints.lastJudged.agrees } }
      : notAvailable(checkpoints.captured ? "no users/me checkpoint before the watermark yet" : "no users/me checkpoint captured yet"),
    audit_sweep: sweep
      ? { available: true, value: { at: sweep.at, result: `${sweep.differing} of ${sweep.windows} windows differ` } }
      : notAvailable("no audit sweep yet: run generect-sync verify"),
  };
}

async function quarantined(db: Queryable, account: string): Promise<Proof<number>> {
  const { rows } = await db.query<{ present: boolean }>(QUARANTINE_EXISTS_SQL);
  if (!rows[0]?.present) return notAvailable("not available yet: this database has no quarantine table");
  return { available: true, value: (await db.query<{ n: number }>(QUARANTINE_COUNT_SQL, [account])).rows[0]!.n };
}
