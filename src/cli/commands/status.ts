import { loadConfig } from "../../config/index.js";
import { createPrisma } from "../../db/prisma.js";
import { resolveDatabase } from "../../db/resolve.js";
import { type Command, parseOptions } from "../command.js";
import { reconcile } from "../../snapshots/reconcile.js";
import { version } from "../../version.js";
import { formatTable } from "../table.js";
import pg from "pg";

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export const statusCommand: Command = {
  name: "status",
  summary: "watermark and its lag, last runs, rows, snapshots, reconciliation",
  help: `Usage: generect-sync status [--json] [--runs N]

Shows, for SYNC_ACCOUNT: the watermark and how far it lags behind now, the last runs with their
counts, the rows held, the last captured spent-credit day and the reconciliation state in
SYNC_TIMEZONE. --json prints the same as one JSON object.

Environment: DATABASE_URL, SYNC_ACCOUNT, SYNC_TIMEZONE, GENERECT_SYNC_HOME`,
  async run(argv, io) {
    const { values } = parseOptions("status", argv, { json: { type: "boolean" }, runs: { type: "string", default: "5" } });
    const config = loadConfig(io.env);
    const take = Number(values.runs);
    const db = await resolveDatabase(config, io.note);
    const prisma = createPrisma(db.url);
    try {
      const account = config.account;
      const [state, runs, live, deleted, captures, reconciliation] = await Promise.all([
        prisma.syncState.findUnique({ where: { account_stream: { account, stream: "transactions" } } }),
        prisma.syncRun.findMany({ where: { account }, orderBy: { id: "desc" }, take: Number.isInteger(take) && take > 0 ? take : 5 }),
        prisma.transaction.count({ where: { account, deletedAt: null } }),
        prisma.transaction.count({ where: { account, deletedAt: { not: null } } }),
        prisma.spentCreditCapture.aggregate({ where: { account, timezone: config.timezone }, _max: { endDay: true } }),
        withClient(db.url, (client) => reconcile(client, { account, timezone: config.timezone, tolerance: "0.000001" })),
      ]);
      const lastSuccess = await prisma.syncRun.findFirst({ where: { account, status: "succeeded" }, orderBy: { id: "desc" } });
      const now = Date.now();
      const report = {
        version,
        account,
        watermark: state?.watermark.toISOString() ?? null,
        lagSeconds: state ? Math.round((now - state.watermark.getTime()) / 1000) : null,
        transactions: live,
        deletedTransactions: deleted,
        lastSuccessAt: lastSuccess?.finishedAt?.toISOString() ?? null,
        snapshots: { timezone: config.timezone, lastCapturedDay: captures._max.endDay?.toISOString().slice(0, 10) ?? null },
        reconciliation: {
          daysCompared: reconciliation.daysCompared,
          daysDiffering: reconciliation.differing.length,
          firstDifferingDay: reconciliation.differing[0]?.day ?? null,
        },
        runs: runs.map((r) => ({
          id: r.id.toString(),
          status: r.status,
          startedAt: r.startedAt.toISOString(),
          finishedAt: r.finishedAt?.toISOString() ?? null,
          windows: r.windowsWalked,
          pages: r.pages,
          rowsSeen: r.rowsSeen,
          inserted: r.rowsInserted,
          updated: r.rowsUpdated,
          unchanged: r.rowsUnchanged,
          deleted: r.rowsDeleted,
          apiRequests: r.apiRequests,
          retries: r.retries,
          version: r.version,
          error: r.errorMessage,
        })),
      };
      if (values.json) {
        io.out(JSON.stringify(report, null, 2));
        return 0;
      }
      io.out(`account ${account}`);
      io.out(report.watermark ? `watermark ${report.watermark} (${formatLag(report.lagSeconds!)} behind now)` : "watermark: none yet (no run has committed a window)");
      io.out(`transactions ${live}${deleted ? ` (+${deleted} deleted upstream)` : ""}`);
      io.out(`last success ${report.lastSuccessAt ?? "never"}`);
      io.out(report.snapshots.lastCapturedDay ? `spent credits captured up to ${report.snapshots.lastCapturedDay} (${config.timezone})` : `no spent credits captured yet (${config.timezone})`);
      const r = report.reconciliation;
      io.out(r.daysCompared === 0 ? "reconciliation: no complete captured day yet" : r.daysDiffering ? `reconciliation: ${r.daysDiffering} of ${r.daysCompared} days differ (first ${r.firstDifferingDay}): run generect-sync reconcile` : `reconciliation: ledger agrees with Generect on ${r.daysCompared} days`);
      if (!runs.length) io.out("no runs yet");
      else {
        io.out("last runs:");
        const header = ["run", "status", "started", "windows", "pages", "seen", "inserted", "updated", "unchanged", "deleted", "requests", "retries", "version", "error"];
        const numeric = header.map((h) => !["run", "status", "started", "version", "error"].includes(h));
        const rows = report.runs.map((r) => [
          `#${r.id}`, r.status, r.startedAt, ...[r.windows, r.pages, r.rowsSeen, r.inserted, r.updated, r.unchanged, r.deleted, r.apiRequests, r.retries].map(String),
          r.version ?? "-", r.error ?? "",
        ]);
        for (const line of formatTable(header, rows, { numeric, indent: "  " })) io.out(line);
      }
      return 0;
    } finally {
      await prisma.$disconnect();
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
