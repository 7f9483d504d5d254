import { configVariables } from "../../config/index.js";
import { ConfigError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";
import { runFleetCommand } from "../fleet-command.js";
import { formatPairs } from "../table.js";

export const runCommand: Command = {
  name: "run",
  summary: "one sync pass: fetch new and changed transactions, then exit",
  help: `Usage: generect-sync run [--full] [--all [--shard I/N]]

Walks GET /api/auth/transactions/ from the stored watermark minus SYNC_LOOKBACK up to now, in
checkpointed windows (the first SYNC_WINDOW long, the next sized to hold about SYNC_WINDOW_ROWS
rows), and upserts every row into the transactions table; then
captures the daily spent-credit snapshots (as \`generect-sync snapshot\`). Each run first records
the users/me balances (a checkpoint) and ends by printing the proof chain's head digest: keep it
outside the database to check the history later (\`generect-sync verify --digest\`).

  --full   walk the whole history, not only from the watermark minus SYNC_LOOKBACK: catches
           in-place changes older than the lookback (versions recorded); with --all, of every account

--all syncs every account of SYNC_ACCOUNTS_FILE (each its own run, lock and watermark) under one
budget: SYNC_CONCURRENCY API requests in flight and SYNC_DB_CONNECTIONS database connections for the
whole process; one line per account at the end. --shard I/N (or JOB_COMPLETION_INDEX with
SYNC_SHARDS=N) keeps the accounts whose name hashes to I modulo N. Exit codes with --all: 0 every
account succeeded or was skipped (its lock held elsewhere); 1 any account failed; 2 a bad file.

Exit codes: 0 success; 1 the run failed (the message says why; sync_runs has the details);
2 bad configuration (or a test-mode API key: nothing written); 75 another run holds the lock for this account (nothing was done);
130/143 stopped by SIGINT/SIGTERM (the run is marked interrupted).

Environment:
${formatPairs(configVariables)}

Example:
  GENERECT_API_TOKEN=... DATABASE_URL=postgres://user@host/db generect-sync run`,
  async run(argv, io) {
    const { values } = parseOptions("run", argv, { full: { type: "boolean" }, all: { type: "boolean" }, shard: { type: "string" } });
    if (values.all) return runFleetCommand("run", io, values.shard, { full: values.full });
    if (values.shard !== undefined) throw new ConfigError("run: --shard goes with --all");
    // The sync and its dependencies load only now: `run --help` stays instant.
    const [{ runSync }, { withRunMetrics }, { createProgress }, { withSyncSession }, { describeSnapshots }] = await Promise.all([
      import("../../job/run.js"),
      import("../../job/run-metrics.js"),
      import("../progress.js"),
      import("../session.js"),
      import("./snapshot.js"),
    ]);
    return withSyncSession(io, async ({ config, databaseUrl, log, signal }) => {
      const progress = createProgress();
      try {
        const summary = await withRunMetrics(config, "run", log, () =>
          runSync({ config, databaseUrl, log, signal, progress, full: values.full }),
        );
        progress?.finish();
        io.out(
          `run #${summary.runId} succeeded: ${summary.windows} window(s), ${summary.pages} page(s), ${summary.rowsSeen} rows seen ` +
            `(${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.deleted} deleted), ` +
            `${summary.apiRequests} API requests, ${summary.retries} retries`,
        );
        if (summary.countMismatches) {
          io.out(
            `${summary.countMismatches} window(s) committed on two complete walks that agreed although the API's count did not (sync_runs.count_mismatches)`,
          );
        }
        if (summary.snapshots) io.out(describeSnapshots(summary.snapshots));
        io.out(`proof chain head ${summary.headDigest} (users/me checkpoint ${summary.checkpoint})`);
        return 0;
      } catch (error) {
        progress?.finish();
        throw error;
      }
    });
  },
};
