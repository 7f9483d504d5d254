import { configVariables } from "../../config/index.js";
import { formatPairs } from "../table.js";
import { type Command, parseOptions } from "../command.js";

export const runCommand: Command = {
  name: "run",
  summary: "one sync pass: fetch new and changed transactions, then exit",
  help: `Usage: generect-sync run

Walks GET /api/auth/transactions/ from the stored watermark minus SYNC_LOOKBACK up to now, in
checkpointed windows (the first SYNC_WINDOW long, the next sized to hold about SYNC_WINDOW_ROWS
rows), and upserts every row into the transactions table; then
captures the daily spent-credit snapshots (as \`generect-sync snapshot\`).

Exit codes: 0 success; 1 the run failed (the message says why; sync_runs has the details);
2 bad configuration (or a test-mode API key: nothing written); 75 another run holds the lock for this account (nothing was done);
130/143 stopped by SIGINT/SIGTERM (the run is marked interrupted).

Environment:
${formatPairs(configVariables)}

Example:
  GENERECT_API_TOKEN=... DATABASE_URL=postgres://user@host/db generect-sync run`,
  async run(argv, io) {
    parseOptions("run", argv, {});
    // The sync and its dependencies load only now: `run --help` stays instant.
    const [{ runSync }, { withRunMetrics }, { createProgress }, { withSyncSession }, { describeSnapshots }] = await Promise.all([
      import("../../sync/run.js"), import("../../metrics/report.js"), import("../progress.js"), import("../session.js"), import("./snapshot.js"),
    ]);
    return withSyncSession(io, async ({ config, databaseUrl, log, signal }) => {
      const progress = createProgress();
      try {
        const summary = await withRunMetrics(config, "run", log, () => runSync({ config, databaseUrl, log, signal, progress }));
        progress?.finish();
        io.out(
          `run #${summary.runId} succeeded: ${summary.windows} window(s), ${summary.pages} page(s), ${summary.rowsSeen} rows seen ` +
            `(${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.deleted} deleted), ` +
            `${summary.apiRequests} API requests, ${summary.retries} retries`,
        );
        if (summary.countMismatches) {
          io.out(`${summary.countMismatches} window(s) committed on two complete walks that agreed although the API's count did not (sync_runs.count_mismatches)`);
        }
        if (summary.snapshots) io.out(describeSnapshots(summary.snapshots));
        return 0;
      } catch (error) {
        progress?.finish();
        throw error;
      }
    });
  },
};
