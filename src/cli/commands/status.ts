import { loadConfig } from "../../config/index.js";
import { createPrisma } from "../../db/prisma.js";
import { resolveDatabase } from "../../db/resolve.js";
import { type Command, parseOptions } from "../command.js";

export const statusCommand: Command = {
  name: "status",
  summary: "watermark and its lag, last runs, row counts",
  help: `Usage: generect-sync status [--json] [--runs N]

Shows, for SYNC_ACCOUNT: the watermark and how far it lags behind now, the last runs with their
counts, and the rows held. --json prints the same as one JSON object.

Environment: DATABASE_URL, SYNC_ACCOUNT, GENERECT_SYNC_HOME`,
  async run(argv, io) {
    const { values } = parseOptions("status", argv, { json: { type: "boolean" }, runs: { type: "string", default: "5" } });
    const config = loadConfig(io.env);
    const take = Number(values.runs);
    const db = await resolveDatabase(config, io.note);
    const prisma = createPrisma(db.url);
    try {
      const account = config.account;
      const [state, runs, live, deleted] = await Promise.all([
        prisma.syncState.findUnique({ where: { account_stream: { account, stream: "transactions" } } }),
        prisma.syncRun.findMany({ where: { account }, orderBy: { id: "desc" }, take: Number.isInteger(take) && take > 0 ? take : 5 }),
        prisma.transaction.count({ where: { account, deletedAt: null } }),
        prisma.transaction.count({ where: { account, deletedAt: { not: null } } }),
      ]);
      const now = Date.now();
      const report = {
        account,
        watermark: state?.watermark.toISOString() ?? null,
        lagSeconds: state ? Math.round((now - state.watermark.getTime()) / 1000) : null,
        transactions: live,
        deletedTransactions: deleted,
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
      io.out(runs.length ? "last runs:" : "no runs yet");
      for (const r of report.runs) {
        io.out(
          `  #${r.id} ${r.status.padEnd(11)} ${r.startedAt}  windows ${r.windows} pages ${r.pages} seen ${r.rowsSeen} ` +
            `+${r.inserted} ~${r.updated} =${r.unchanged} -${r.deleted} requests ${r.apiRequests} retries ${r.retries}${r.error ? `  error: ${r.error}` : ""}`,
        );
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
