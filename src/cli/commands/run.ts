import { configVariables, loadConfig, requireToken } from "../../config/index.js";
import { resolveDatabase } from "../../db/resolve.js";
import { passwordOf } from "../../db/url.js";
import { assertMigrated } from "../../db/schema-check.js";
import { createLogger } from "../../log.js";
import { runSync } from "../../sync/run.js";
import { withRunMetrics } from "../../metrics/report.js";
import { type Command, parseOptions } from "../command.js";
import { createProgress } from "../progress.js";
import { describeSnapshots } from "./snapshot.js";
import { onShutdownSignal } from "../signals.js";

export const runCommand: Command = {
  name: "run",
  summary: "one sync pass: fetch new and changed transactions, then exit",
  help: `Usage: generect-sync run

Walks GET /api/auth/transactions/ from the stored watermark minus SYNC_LOOKBACK up to now, in
checkpointed windows of SYNC_WINDOW, and upserts every row into the transactions table; then
captures the daily spent-credit snapshots (as \`generect-sync snapshot\`).

Exit codes: 0 success; 1 the run failed (the message says why; sync_runs has the details);
2 bad configuration; 75 another run holds the lock for this account (nothing was done);
130/143 stopped by SIGINT/SIGTERM (the run is marked interrupted).

Environment:
${configVariables.map(([name, text]) => `  ${name.padEnd(20)} ${text}`).join("\n")}

Example:
  GENERECT_API_TOKEN=... DATABASE_URL=postgres://user@host/db generect-sync run`,
  async run(argv, io) {
    parseOptions("run", argv, {});
    const config = loadConfig(io.env);
    const token = requireToken(config);
    const db = await resolveDatabase(config, io.note);
    const log = createLogger({ secrets: [token, passwordOf(db.url)] });
    const signals = onShutdownSignal();
    const progress = createProgress();
    try {
      if (!db.embedded) await assertMigrated(db.url);
      const summary = await withRunMetrics(config, "run", log, () => runSync({ config, databaseUrl: db.url, log, signal: signals.signal, progress }));
      progress?.finish();
      io.out(
        `run #${summary.runId} succeeded: ${summary.windows} window(s), ${summary.pages} page(s), ${summary.rowsSeen} rows seen ` +
          `(${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.deleted} deleted), ` +
          `${summary.apiRequests} API requests, ${summary.retries} retries`,
      );
      if (summary.snapshots) io.out(describeSnapshots(summary.snapshots));
      return 0;
    } catch (error) {
      progress?.finish();
      throw error;
    } finally {
      signals.dispose();
      await db.close();
    }
  },
};

