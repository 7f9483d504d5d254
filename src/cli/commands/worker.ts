import { configVariables } from "../../config/index.js";
import { ConfigError, InterruptedError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";
import { formatPairs } from "../table.js";

export const workerCommand: Command = {
  name: "worker",
  summary: "long-running: sync on SYNC_CRON, snapshots on SNAPSHOT_CRON",
  help: `Usage: generect-sync worker [--shard I/N]

Runs until SIGTERM/SIGINT: a sync pass (as \`run\`) on SYNC_CRON, a snapshot pass on
SNAPSHOT_CRON and the audit sweep (recorded in audit_sweeps) on VERIFY_CRON, all in SYNC_TIMEZONE. Passes never overlap; several workers (or a worker and a
CronJob) on one account are serialised by the database lock, the loser skips. On SIGTERM the pass
in hand stops taking pages, rolls back its window, is marked interrupted, and the worker exits 143.

With SYNC_ACCOUNTS_FILE set, each pass runs every account of the file (as \`run --all\`; the
sweep of each account under its lock; under one
SYNC_CONCURRENCY / SYNC_DB_CONNECTIONS budget; --shard I/N or JOB_COMPLETION_INDEX with SYNC_SHARDS
to take a share); the schedules are the environment's, in SYNC_TIMEZONE.

With WORKER_HTTP_PORT set it serves, for Kubernetes probes and Prometheus:
  GET /healthz   200 while the process answers (liveness)
  GET /readyz    200 when the database is reachable and migrated, else 503 with the reason (2 s bound)
  GET /metrics   the Pushgateway's series labelled by account and command, plus process metrics

Environment:
${formatPairs(configVariables)}`,
  async run(argv, io) {
    const { values } = parseOptions("worker", argv, { shard: { type: "string" } });
    const [{ runWorker }, { withSyncSession, withFleetSession }] = await Promise.all([
      import("../../job/worker.js"),
      import("../session.js"),
    ]);
    if (io.env.SYNC_ACCOUNTS_FILE?.trim()) {
      return withFleetSession(io, values.shard, async ({ config, accounts, dbConnections, databaseUrl, log, signal }) => {
        await runWorker({ config, databaseUrl, log, signal, fleet: { accounts, dbConnections } });
        return signal.reason instanceof InterruptedError ? signal.reason.exitCode : 0;
      });
    }
    if (values.shard !== undefined) throw new ConfigError("worker: --shard takes a share of SYNC_ACCOUNTS_FILE, which is not set");
    return withSyncSession(io, async ({ config, databaseUrl, log, signal }) => {
      await runWorker({ config, databaseUrl, log, signal });
      return signal.reason instanceof InterruptedError ? signal.reason.exitCode : 0;
    });
  },
};
