import { loadConfig } from "../../config/index.js";
import { ConfigError } from "../../errors.js";
import { version } from "../../version.js";
import { type Command, type CommandIo, parseOptions } from "../command.js";
import { formatTable } from "../table.js";

export const statusCommand: Command = {
  name: "status",
  summary: "watermark and its lag, last runs, rows, snapshots, reconciliation",
  help: `Usage: generect-sync status [--json] [--runs N] | status --all [--json] [--shard I/N]

Shows, for SYNC_ACCOUNT: the watermark and how far it lags behind now, the last runs with their
counts (rows rejected into quarantined_rows included), the rows held, the unresolved quarantined rows, the last captured spent-credit day and the reconciliation state in
SYNC_TIMEZONE, and a one-line summary of the proofs (last audit sweep, chain head, last users/me checkpoint). --json prints the same as one JSON object.

--all: one line per account of SYNC_ACCOUNTS_FILE (watermark lag, last run, rows, reconciliation in
the account's timezone); --json prints the same as a JSON array. Tokens are not needed.

Environment: DATABASE_URL, SYNC_ACCOUNT, SYNC_TIMEZONE, GENERECT_SYNC_HOME`,
  async run(argv, io) {
    const { values } = parseOptions("status", argv, {
      json: { type: "boolean" },
      runs: { type: "string", default: "5" },
      all: { type: "boolean" },
      shard: { type: "string" },
    });
    if (values.all) return fleetStatus(io, { json: values.json === true, shard: values.shard });
    const take = Number(values.runs);
    if (!/^\d+$/.test(values.runs) || take < 1 || take > 1000) {
      throw new ConfigError(`status: --runs ${JSON.stringify(values.runs)} must be a whole number from 1 to 1000`);
    }
    const config = loadConfig(io.env);
    // pg loads only now, so `status --help` answers at once.
    const [{ Database }, { resolveMigratedDatabase }, { readStatus, describeProofs }] = await Promise.all([
      import("../../db/database.js"),
      import("../../db/resolve.js"),
      import("../status-read.js"),
    ]);
    const db = await resolveMigratedDatabase(config, io.note);
    const database = new Database(db.url);
    try {
      const account = config.account;
      const { watermark, runs, lastSuccessAt, live, deleted, lastCapturedDay, reconciliation, quarantined, proofs } = await readStatus(
        database.pool,
        { account, timezone: config.timezone, runs: take },
      );
      const now = Date.now();
      const report = {
        version,
        account,
        watermark: watermark?.toISOString() ?? null,
        lagSeconds: watermark ? Math.round((now - watermark.getTime()) / 1000) : null,
        transactions: live,
        deletedTransactions: deleted,
        /** Open entries of quarantined_rows: rows the API sent that could not be stored as transactions, or older than the version held. */
        quarantinedRows: quarantined,
        proofs: { ...proofs, summary: describeProofs(proofs) },
        lastSuccessAt: lastSuccessAt?.toISOString() ?? null,
        snapshots: { timezone: config.timezone, lastCapturedDay },
        reconciliation: {
          daysCompared: reconciliation.daysCompared,
          daysDiffering: reconciliation.differing.length,
          firstDifferingDay: reconciliation.differing[0]?.day ?? null,
        },
        runs: runs.map((r) => ({
          id: r.id,
          status: r.status,
          startedAt: r.started_at.toISOString(),
          finishedAt: r.finished_at?.toISOString() ?? null,
          windows: r.windows_walked,
          pages: r.pages,
          rowsSeen: r.rows_seen,
          inserted: r.rows_inserted,
          updated: r.rows_updated,
          unchanged: r.rows_unchanged,
          deleted: r.rows_deleted,
          countMismatches: r.count_mismatches,
          rejected: r.rows_rejected,
          apiRequests: r.api_requests,
          retries: r.retries,
          version: r.version,
          error: r.error_message,
        })),
      };
      if (values.json) {
        io.out(JSON.stringify(report, null, 2));
        return 0;
      }
      io.out(`account ${account}`);
      io.out(
        report.watermark
          ? `watermark ${report.watermark} (${formatLag(report.lagSeconds!)} behind now)`
          : "watermark: none yet (no run has committed a window)",
      );
      io.out(`transactions ${live}${deleted ? ` (+${deleted} deleted upstream)` : ""}`);
      if (quarantined)
        io.out(`quarantined rows ${quarantined} unresolved: rows the API sent that are not transactions, see table quarantined_rows`);
      io.out(`last success ${report.lastSuccessAt ?? "never"}`);
      io.out(report.proofs.summary);
      io.out(
        report.snapshots.lastCapturedDay
          ? `spent credits captured up to ${report.snapshots.lastCapturedDay} (${config.timezone})`
          : `no spent credits captured yet (${config.timezone})`,
      );
      const r = report.reconciliation;
      io.out(
        r.daysCompared === 0
          ? "reconciliation: no complete captured day yet"
          : r.daysDiffering
            ? `reconciliation: ${r.daysDiffering} of ${r.daysCompared} days differ (first ${r.firstDifferingDay}): run generect-sync reconcile`
            : `reconciliation: ledger agrees with Generect on ${r.daysCompared} days`,
      );
      if (!runs.length) io.out("no runs yet");
      else {
        io.out("last runs:");
        const header = [
          "run",
          "status",
          "started",
          "windows",
          "pages",
          "seen",
          "inserted",
          "updated",
          "unchanged",
          "deleted",
          "rejected",
          "requests",
          "retries",
          "mismatches",
          "version",
          "error",
        ];
        const numeric = header.map((h) => !["run", "status", "started", "version", "error"].includes(h));
        const rows = report.runs.map((r) => [
          `#${r.id}`,
          r.status,
          r.startedAt,
          ...[
            r.windows,
            r.pages,
            r.rowsSeen,
            r.inserted,
            r.updated,
            r.unchanged,
            r.deleted,
            r.rejected,
            r.apiRequests,
            r.retries,
            r.countMismatches,
          ].map(String),
          r.version ?? "-",
          r.error ?? "",
        ]);
        for (const line of formatTable(header, rows, { numeric, indent: "  " })) io.out(line);
      }
      return 0;
    } finally {
      await database.close();
      await db.close();
    }
  },
};

function formatLag(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** `status --all`: the fleet at a glance, one row per account of SYNC_ACCOUNTS_FILE. */
async function fleetStatus(io: CommandIo, options: { json: boolean; shard: string | undefined }): Promise<number> {
  const file = io.env.SYNC_ACCOUNTS_FILE?.trim();
  if (!file)
    throw new ConfigError("status --all needs SYNC_ACCOUNTS_FILE: a YAML file listing the accounts (name, token_env), see the README");
  const config = loadConfig({ ...io.env, GENERECT_API_TOKEN: undefined });
  const [{ loadAccounts, readShard, inShard }, { Database }, { resolveMigratedDatabase }, { readStatus }] = await Promise.all([
    import("../../config/accounts.js"),
    import("../../db/database.js"),
    import("../../db/resolve.js"),
    import("../status-read.js"),
  ]);
  const shard = readShard(options.shard, io.env);
  const accounts = loadAccounts(file, io.env).filter((a) => inShard(a.name, shard));
  const db = await resolveMigratedDatabase(config, io.note);
  const database = new Database(db.url, { max: 2 });
  try {
    const now = Date.now();
    const rows = [];
    for (const { name, config: account, tokenError } of accounts) {
      const s = await readStatus(database.pool, { account: name, timezone: account.timezone, runs: 1 });
      const last = s.runs[0];
      rows.push({
        account: name,
        watermark: s.watermark?.toISOString() ?? null,
        lagSeconds: s.watermark ? Math.round((now - s.watermark.getTime()) / 1000) : null,
        lastRun: last ? { id: last.id, status: last.status, startedAt: last.started_at.toISOString(), error: last.error_message } : null,
        lastSuccessAt: s.lastSuccessAt?.toISOString() ?? null,
        transactions: s.live,
        deletedTransactions: s.deleted,
        quarantinedRows: s.quarantined,
        reconciliation: {
          timezone: account.timezone,
          daysCompared: s.reconciliation.daysCompared,
          daysDiffering: s.reconciliation.differing.length,
        },
        tokenProblem: tokenError?.message ?? null,
      });
    }
    if (options.json) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    const table = [["ACCOUNT", "LAG", "LAST RUN", "ROWS", "RECONCILIATION"]];
    for (const r of rows) {
      const reconciliation =
        r.reconciliation.daysCompared === 0
          ? "-"
          : r.reconciliation.daysDiffering
            ? `${r.reconciliation.daysDiffering}/${r.reconciliation.daysCompared} days differ`
            : `${r.reconciliation.daysCompared} days agree`;
      table.push([
        r.account,
        r.lagSeconds === null ? "never" : formatLag(r.lagSeconds),
        r.lastRun ? `#${r.lastRun.id} ${r.lastRun.status} ${r.lastRun.startedAt.slice(0, 16).replace("T", " ")}` : "none",
        String(r.transactions),
        reconciliation + (r.tokenProblem ? `  (${r.tokenProblem})` : ""),
      ]);
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      io.out(
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
          .join("  ")
          .trimEnd(),
      );
    return 0;
  } finally {
    await database.close();
    await db.close();
  }
}
