import type { SnapshotStats } from "../../snapshots/capture.js";
import { type Command, parseOptions } from "../command.js";

export function describeSnapshots(s: SnapshotStats): string {
  if (s.from === undefined) return "no spent credits to capture yet";
  const mismatch = s.totalMismatches
    ? `; WARNING: ${s.totalMismatches} answer(s) whose total_spent_credits differs from the sum of its values`
    : "";
  return `spent credits ${s.from}..${s.to}: ${s.days} day(s), ${s.rows} value(s) written (${s.restated} restated)${mismatch}`;
}

export const snapshotCommand: Command = {
  name: "snapshot",
  summary: "capture daily spent credits (also part of every run)",
  help: `Usage: generect-sync snapshot [--all [--shard I/N]]

Calls GET /api/auth/transactions/spent_credits/ with period=day in SYNC_TIMEZONE, from the last
captured day minus SNAPSHOT_RESTATE_DAYS to today (the first capture reaches back to SYNC_START or
the oldest transaction), and appends new or restated values to spent_credit_snapshots.

--all: every account of SYNC_ACCOUNTS_FILE, as \`run --all\` does.

Environment: GENERECT_API_TOKEN, GENERECT_API_URL, DATABASE_URL, SYNC_ACCOUNT, SYNC_TIMEZONE,
SNAPSHOT_RESTATE_DAYS, SYNC_START`,
  async run(argv, io) {
    const { values } = parseOptions("snapshot", argv, { all: { type: "boolean" }, shard: { type: "string" } });
    if (values.all) return (await import("../fleet-command.js")).runFleetCommand("snapshot", io, values.shard);
    const [{ runSnapshot }, { withRunMetrics }, { withSyncSession }] = await Promise.all([
      import("../../job/run.js"),
      import("../../job/run-metrics.js"),
      import("../session.js"),
    ]);
    return withSyncSession(io, async ({ config, databaseUrl, log, signal }) => {
      const result = await withRunMetrics(config, "snapshot", log, () => runSnapshot({ config, databaseUrl, log, signal }));
      io.out(`run #${result.runId} succeeded: ${describeSnapshots(result)}, ${result.apiRequests} API requests`);
      return 0;
    });
  },
};
