import { configVariables, loadConfig, requireToken } from "../../config/index.js";
import { resolveDatabase } from "../../db/resolve.js";
import { assertMigrated } from "../../db/schema-check.js";
import { passwordOf } from "../../db/url.js";
import { InterruptedError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { runWorker } from "../../worker/worker.js";
import { type Command, parseOptions } from "../command.js";
import { onShutdownSignal } from "../signals.js";

export const workerCommand: Command = {
  name: "worker",
  summary: "long-running: sync on SYNC_CRON, snapshots on SNAPSHOT_CRON",
  help: `Usage: generect-sync worker

Runs until SIGTERM/SIGINT: a sync pass (as \`run\`) on SYNC_CRON and a snapshot pass on
SNAPSHOT_CRON, both in SYNC_TIMEZONE. Passes never overlap; several workers (or a worker and a
CronJob) on one account are serialised by the database lock, the loser skips. On SIGTERM the pass
in hand stops taking pages, rolls back its window, is marked interrupted, and the worker exits 143.

Environment:
${configVariables.map(([name, text]) => `  ${name.padEnd(22)} ${text}`).join("\n")}`,
  async run(argv, io) {
    parseOptions("worker", argv, {});
    const config = loadConfig(io.env);
    const token = requireToken(config);
    const db = await resolveDatabase(config, io.note);
    const log = createLogger({ secrets: [token, passwordOf(db.url)] });
    const signals = onShutdownSignal();
    try {
      if (!db.embedded) await assertMigrated(db.url);
      await runWorker({ config, databaseUrl: db.url, log, signal: signals.signal });
      const reason = signals.signal.reason;
      return reason instanceof InterruptedError ? reason.exitCode : 0;
    } finally {
      signals.dispose();
      await db.close();
    }
  },
};
