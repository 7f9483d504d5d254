import { configVariables } from "../../config/index.js";
import { formatPairs } from "../table.js";
import { InterruptedError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";

export const workerCommand: Command = {
  name: "worker",
  summary: "long-running: sync on SYNC_CRON, snapshots on SNAPSHOT_CRON",
  help: `Usage: generect-sync worker

Runs until SIGTERM/SIGINT: a sync pass (as \`run\`) on SYNC_CRON and a snapshot pass on
SNAPSHOT_CRON, both in SYNC_TIMEZONE. Passes never overlap; several workers (or a worker and a
CronJob) on one account are serialised by the database lock, the loser skips. On SIGTERM the pass
in hand stops taking pages, rolls back its window, is marked interrupted, and the worker exits 143.

With WORKER_HTTP_PORT set it serves, for Kubernetes probes and Prometheus:
  GET /healthz   200 while the process answers (liveness)
  GET /readyz    200 when the database is reachable and migrated, else 503 with the reason (2 s bound)
  GET /metrics   the Pushgateway's series labelled by account and command, plus process metrics

Environment:
${formatPairs(configVariables)}`,
  async run(argv, io) {
    parseOptions("worker", argv, {});
    const [{ runWorker }, { withSyncSession }] = await Promise.all([import("../../worker/worker.js"), import("../session.js")]);
    return withSyncSession(io, async ({ config, databaseUrl, log, signal }) => {
      await runWorker({ config, databaseUrl, log, signal });
      return signal.reason instanceof InterruptedError ? signal.reason.exitCode : 0;
    });
  },
};
