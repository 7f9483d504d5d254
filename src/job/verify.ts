// `generect-sync verify`: every proof in one report. Each proof reads its evidence from outside the
// sync's bookkeeping: the API's counts and balances, the ledger's own arithmetic, and a hash chain
// that a digest kept elsewhere can hold to account.
import type pg from "pg";
import { GenerectClient } from "../api/client.js";
import type { Config } from "../config/index.js";
import { requireToken } from "../config/index.js";
import { Database, inTransaction } from "../db/database.js";
import { chainHeadSql } from "../db/sql/proofs.js";
import { openQuarantinedRowsSql } from "../db/sql/quarantine.js";
import type { Logger } from "../log.js";
import { type BalanceChainCheck, checkBalanceChain } from "../proofs/balance-chain.js";
import { type ChainCheck, checkChain } from "../proofs/chain.js";
import { type CheckpointCheck, checkCheckpoints } from "../proofs/checkpoint.js";
import { describeSweepWindow, recordSweep, recount, type SweepResult, type SweepWindow, sweep } from "../proofs/sweep.js";
import { formatInstant } from "../time.js";
import { readWatermark, runRepair, type SyncOptions } from "./run.js";

export type ProofName = "audit_sweep" | "balance_chain" | "balance_checkpoints" | "tamper_evidence" | "quarantine";

export interface ProofLine {
  name: ProofName;
  holds: boolean;
  /** One line: what was checked and what was found. */
  summary: string;
  /** What differs, named (ids, windows, versions). */
  findings: string[];
}

export interface VerifyReport {
  account: string;
  holds: boolean;
  proofs: ProofLine[];
  headDigest: string;
  sweep: {
    windows: number;
    apiRequests: number;
    seconds: number;
    differing: ReturnType<typeof describeSweepWindow>[];
    repaired?: { runId: string; windows: number };
  };
  balanceChain: BalanceChainCheck;
  checkpoints: CheckpointCheck;
  chain: ChainCheck;
  quarantined: QuarantinedEntry[];
}

export interface QuarantinedEntry {
  id: string;
  transaction_id: string | null;
  reason_code: string;
  reason: string;
}

export interface VerifyOptions {
  config: Config;
  databaseUrl: string;
  log: Logger;
  signal?: AbortSignal;
  repair?: boolean;
  /** A head digest kept outside the database: the history must still produce it. */
  digest?: string;
  clientOptions?: SyncOptions["clientOptions"];
  /** A shared Database (the worker's across its ticks, or a fleet's), left open; without one verify opens its own and closes it. */
  database?: Database;
  /** A fleet's lock session (the repair run takes the account's lock on it). */
  locks?: SyncOptions["locks"];
  /** A fleet's shared request limiter. */
  requestSlot?: SyncOptions["requestSlot"];
}

function apiClient(options: Pick<VerifyOptions, "config" | "signal" | "clientOptions" | "log" | "requestSlot">): GenerectClient {
  const { config } = options;
  return new GenerectClient({
    baseUrl: config.apiUrl,
    token: requireToken(config),
    timeoutMs: config.requestTimeoutMs,
    retries: config.retries,
    maxResponseBytes: config.maxResponseBytes,
    signal: options.signal,
    requestSlot: options.requestSlot,
    onRetry: ({ attempt, reason, delayMs }) => options.log.warn({ attempt, delayMs }, `retrying: ${reason}`),
    ...options.clientOptions,
  });
}

/** The audit sweep alone, recorded (the worker's VERIFY_CRON pass). */
export async function runSweep(options: VerifyOptions): Promise<SweepResult> {
  const database = options.database ?? new Database(options.databaseUrl);
  try {
    return await sweepAndRecord(database.pool, apiClient(options), options, false);
  } finally {
    if (!options.database) await database.close();
  }
}

async function sweepAndRecord(pool: pg.Pool, client: GenerectClient, options: VerifyOptions, repaired: boolean): Promise<SweepResult> {
  const { config } = options;
  const result = await sweep(pool, client, {
    account: config.account,
    watermark: await readWatermark(pool, config.account),
    start: config.start,
    spanMs: config.windowMs,
    concurrency: config.concurrency,
  });
  await recordSweep(pool, config.account, result, repaired);
  options.log.info(
    { windows: result.windows, apiRequests: result.apiRequests, differing: result.differing.map(describeSweepWindow) },
    "audit sweep",
  );
  return result;
}

const windowText = (w: SweepWindow) => `[${formatInstant(w.from)}, ${formatInstant(w.to)}): API ${w.api}, database ${w.database}`;

export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  const { config } = options;
  const account = config.account;
  const database = options.database ?? new Database(options.databaseUrl);
  const { pool } = database;
  const client = apiClient(options);
  try {
    // Tamper evidence first: a repair adds links, and the chain as found is what is being judged.
    // One snapshot: a run committing a window meanwhile would otherwise show as a break.
    const chain = await inTransaction(pool, (db) => checkChain(db, account, options.digest), { snapshot: true });
    const started = performance.now();
    let swept = await sweepAndRecord(pool, client, options, false);
    const sweepRequests = swept.apiRequests;
    const sweepSeconds = (performance.now() - started) / 1000;
    let repaired: VerifyReport["sweep"]["repaired"];
    const foundDiffering = swept.differing;
    if (options.repair && swept.differing.length > 0) {
      const repair = await runRepair(
        {
          config,
          databaseUrl: options.databaseUrl,
          log: options.log,
          signal: options.signal,
          clientOptions: options.clientOptions,
          database: options.database,
          locks: options.locks,
          requestSlot: options.requestSlot,
        },
        swept.differing,
      );
      repaired = { runId: repair.runId, windows: repair.committed };
      const after: SweepWindow[] = [];
      for (const w of swept.differing) {
        const again = await recount(pool, client, account, w);
        if (again.api !== again.database) after.push(again);
      }
      swept = { ...swept, differing: after, finishedAt: new Date() };
      await recordSweep(pool, account, swept, true);
    }
    const balanceChain = await checkBalanceChain(pool, account);
    const checkpoints = await checkCheckpoints(pool, account);
    const quarantined = (await pool.query<QuarantinedEntry>(openQuarantinedRowsSql, [account])).rows;
    const head = (await pool.query<{ head_digest: string }>(chainHeadSql, [account])).rows[0]?.head_digest ?? chain.head;

    const proofs: ProofLine[] = [
      {
        name: "audit_sweep",
        holds: swept.differing.length === 0,
        summary:
          swept.windows === 0
            ? "nothing to sweep: the account has no synced history"
            : swept.differing.length === 0
              ? `${swept.windows} windows, the API's count equals the database's live rows in each (${sweepRequests} requests)` +
                (repaired ? `: ${foundDiffering.length} window(s) differed and were repaired by run #${repaired.runId}` : "")
              : `${swept.differing.length} of ${swept.windows} windows differ${repaired ? ` after repair by run #${repaired.runId}` : " (verify --repair walks them again)"}`,
        findings: (repaired ? swept.differing : foundDiffering).map(windowText),
      },
      {
        name: "balance_chain",
        holds: balanceChain.breaks === 0,
        summary:
          balanceChain.rule === undefined
            ? "no transactions to chain"
            : `rule ${balanceChain.rule} (breaks under all/settled/success: ${balanceChain.breaksByRule.all}/${balanceChain.breaksByRule.settled}/${balanceChain.breaksByRule.success}), ` +
              `${balanceChain.breaks} break(s) in ${balanceChain.checked} links`,
        findings: balanceChain.first.map(
          (b) =>
            `${b.balance_type} transaction ${b.id} at ${b.created_at}: expected after_balance ${b.expected} (${b.previous_after_balance} after ${b.previous_id}, + ${b.amount}), found ${b.found ?? "null"}`,
        ),
      },
      {
        name: "balance_checkpoints",
        holds: checkpoints.differing.length === 0,
        summary:
          `${checkpoints.judged} checkpoint(s) judged of ${checkpoints.captured} captured (${checkpoints.missing} missing)` +
          (checkpoints.differing.length
            ? `, ${checkpoints.differing.length} balance(s) disagree`
            : ", every balance agrees with the ledger"),
        findings: checkpoints.differing.map(
          (d) =>
            `checkpoint ${d.checkpoint} at ${d.capturedAt}: ${d.field} is ${d.api} in users/me, the ledger's latest after_balance is ${d.ledger}${d.lastId ? ` (transaction ${d.lastId})` : " (no row of that type)"}` +
            (d.receivedAt ? `, and no live row of that type created from then until the answer at ${d.receivedAt} has ${d.api}` : ""),
        ),
      },
      {
        name: "tamper_evidence",
        holds: chain.breaks === 0 && chain.unlinked === 0 && (options.digest === undefined || chain.digestMatch != null),
        summary:
          `${chain.links} link(s) over ${chain.versions} versions, head ${head}` +
          (options.digest === undefined
            ? ""
            : chain.digestMatch
              ? `; digest ${options.digest} reproduced at link ${chain.digestMatch.seq} (${chain.digestMatch.linkedVersions} versions)`
              : `; digest ${options.digest} NOT reproduced by the history`) +
          (chain.breaks ? `; ${chain.breaks} link(s) no longer match` : ""),
        findings: [
          ...(chain.firstBreak ? [`first break: ${chain.firstBreak.detail}`] : []),
          ...(chain.unlinked ? [`${chain.unlinked} version(s) after the chain's last link were not written by a committed window`] : []),
        ],
      },
      {
        name: "quarantine",
        holds: quarantined.length === 0,
        summary: quarantined.length === 0 ? "no unresolved quarantined rows" : `${quarantined.length} unresolved quarantined row(s)`,
        findings: quarantined.map(
          (q) => `quarantined_rows ${q.id}${q.transaction_id ? ` (transaction ${q.transaction_id})` : ""}: ${q.reason_code} ${q.reason}`,
        ),
      },
    ];
    return {
      account,
      holds: proofs.every((p) => p.holds),
      proofs,
      headDigest: head,
      sweep: {
        windows: swept.windows,
        apiRequests: sweepRequests,
        seconds: sweepSeconds,
        differing: swept.differing.map(describeSweepWindow),
        repaired,
      },
      balanceChain,
      checkpoints,
      chain,
      quarantined,
    };
  } finally {
    if (!options.database) await database.close();
  }
}

export function renderReport(report: VerifyReport): string[] {
  const failing = report.proofs.filter((p) => !p.holds).length;
  const lines = [
    failing === 0
      ? `verify account "${report.account}": all ${report.proofs.length} proofs hold`
      : `verify account "${report.account}": ${failing} of ${report.proofs.length} proofs differ`,
  ];
  for (const proof of report.proofs) {
    lines.push(`  ${proof.name.padEnd(20)} ${proof.holds ? "holds  " : "DIFFERS"}  ${proof.summary}`);
    for (const finding of proof.findings.slice(0, 20)) lines.push(`      ${finding}`);
    if (proof.findings.length > 20) lines.push(`      ... and ${proof.findings.length - 20} more (--json lists them)`);
  }
  lines.push(`head digest ${report.headDigest}`);
  return lines;
}
