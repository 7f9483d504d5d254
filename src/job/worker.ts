import cron, { type ScheduledTask } from "node-cron";
import type { FleetAccount } from "../config/accounts.js";
import type { Config } from "../config/index.js";
import { Database } from "../db/database.js";
import { checkReadiness, expectedMigrations, type Readiness } from "../db/schema-check.js";
import { LockedError } from "../errors.js";
import type { Logger } from "../log.js";
import { LiveMetrics } from "../metrics/live.js";
import { fleetPoolSize, runFleet } from "./fleet.js";
import { runSnapshot, runSync } from "./run.js";
import { withRunMetrics } from "./run-metrics.js";
import { startWorkerHttp, type WorkerHttp } from "./worker-http.js";

export interface WorkerOptions {
  config: Config;
  databaseUrl: string;
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: no new pass starts, the pass in hand stops and rolls back. */
  signal: AbortSignal;
  /** SYNC_ACCOUNTS_FILE's accounts: each pass is a fleet pass over all of them (see fleet.ts). */
  fleet?: { accounts: FleetAccount[]; dbConnections: number };
}

type Pass = "run" | "snapshot" | "verify";

/** How long /readyz waits for the database: under the Deployment's probe timeout (3 s). */
export const readinessTimeoutMs = 2_000;

/**
 * WORKER_HTTP_PORT's server, when set. Readiness checks run one at a time: probes and scrapes that
 * arrive while one is in flight share its answer, so a slow database never piles up connections.
 */
async function serveHttp(
  config: Config,
  databaseUrl: string,
  log: Logger,
  signal: AbortSignal,
): Promise<{ http?: WorkerHttp; metrics?: LiveMetrics }> {
  if (config.workerHttpPort === undefined) return {};
  const metrics = new LiveMetrics(config.account);
  const expected = await expectedMigrations();
  let inFlight: Promise<Readiness> | undefined;
  const readiness = (): Promise<Readiness> => {
    if (signal.aborted) return Promise.resolve({ ready: false, reason: "the worker is stopping" });
    inFlight ??= checkReadiness(databaseUrl, expected, readinessTimeoutMs).finally(() => (inFlight = undefined));
    return inFlight;
  };
  const http = await startWorkerHttp({ port: config.workerHttpPort, metrics, readiness, log });
  return { http, metrics };
}

/**
 * The long-running worker: node-cron fires sync, snapshot and audit-sweep passes in SYNC_TIMEZONE. A pass never
 * overlaps the previous one of this worker (node-cron's noOverlap, and one pass at a time across
 * both schedules), nor a pass of another worker or CronJob (the account's advisory lock: the
 * loser skips). Resolves once the signal is aborted and the pass in hand has ended.
 */
export async function runWorker({ config, databaseUrl, log, signal, fleet }: WorkerOptions): Promise<void> {
  cron.setLogger({
    info: (m) => log.debug({ component: "node-cron" }, m),
    warn: (m) => log.warn({ component: "node-cron" }, m),
    error: (m) => log.error({ component: "node-cron" }, String(m)),
    debug: (m) => log.debug({ component: "node-cron" }, String(m)),
  });
  const { http, metrics } = await serveHttp(config, databaseUrl, log, signal);
  // One pool for the worker's whole life, not one per tick: idle connections close by themselves
  // between ticks (pg's idle timeout), and a fleet's is sized as each pass's would be.
  const database = new Database(
    databaseUrl,
    fleet ? { max: fleetPoolSize({ ...fleet, concurrency: config.concurrency }, fleet.accounts.length) } : {},
  );
  let current: Promise<void> | undefined;

  const pass = (kind: Pass) => async () => {
    if (signal.aborted) return;
    if (current) {
      log.info({ pass: kind }, "skipped: the previous pass is still running");
      return;
    }
    const work = (async () => {
      try {
        if (fleet) {
          // VERIFY_CRON: the audit sweep of every account, each under its lock, recorded in audit_sweeps.
          const outcomes = await runFleet({
            ...fleet,
            databaseUrl,
            database,
            log,
            signal,
            pass: kind === "verify" ? "sweep" : kind,
            concurrency: config.concurrency,
            metrics,
          });
          const count = (status: string) => outcomes.filter((o) => o.status === status).length;
          log.info({ pass: kind, succeeded: count("succeeded"), failed: count("failed"), skipped: count("skipped") }, "fleet pass ended");
        } else if (kind === "run") {
          const s = await withRunMetrics(
            config,
            "run",
            log,
            () => runSync({ config, databaseUrl, database, log, signal, command: "run" }),
            metrics,
          );
          log.info(
            { runId: s.runId, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, deleted: s.deleted },
            "sync pass succeeded",
          );
        } else if (kind === "verify") {
          // The audit sweep alone: counts from the API against the table, recorded in audit_sweeps.
          // It repairs nothing by itself: `verify --repair` is an operator's decision.
          const { runSweep } = await import("./verify.js");
          const s = await runSweep({ config, databaseUrl, database, log, signal });
          const summary = { windows: s.windows, apiRequests: s.apiRequests, differing: s.differing.length };
          if (s.differing.length)
            log.warn(summary, "audit sweep: windows differ between the API and the database (generect-sync verify --repair)");
          else log.info(summary, "audit sweep: every window agrees");
        } else {
          const s = await withRunMetrics(
            config,
            "snapshot",
            log,
            () => runSnapshot({ config, databaseUrl, database, log, signal }),
            metrics,
          );
          log.info({ runId: s.runId, rows: s.rows, restated: s.restated }, "snapshot pass succeeded");
        }
      } catch (error) {
        if (error instanceof LockedError) log.info({ pass: kind }, `skipped: ${error.message}`);
        else if (!signal.aborted)
          log.error({ pass: kind, code: (error as { code?: string }).code }, `pass failed: ${(error as Error).message}`);
      }
    })();
    current = work;
    await work;
    current = undefined;
  };

  const options = { timezone: config.timezone, noOverlap: true };
  const tasks: ScheduledTask[] = [
    cron.schedule(config.syncCron, pass("run"), { ...options, name: "sync" }),
    cron.schedule(config.snapshotCron, pass("snapshot"), { ...options, name: "snapshot" }),
    // With a fleet, the sweep covers every account of its share (see fleet.ts, pass "sweep").
    cron.schedule(config.verifyCron, pass("verify"), { ...options, name: "verify" }),
  ];
  log.info(
    {
      syncCron: config.syncCron,
      snapshotCron: config.snapshotCron,
      verifyCron: config.verifyCron,
      nextVerify: tasks[2]?.getNextRun()?.toISOString() ?? null,
      timezone: config.timezone,
      nextSync: tasks[0]!.getNextRun()?.toISOString(),
      nextSnapshot: tasks[1]!.getNextRun()?.toISOString(),
    },
    "worker started",
  );

  // A signal that came while the worker started (the database check, the HTTP server) fired its event already.
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  await Promise.all(tasks.map((task) => task.destroy()));
  await current;
  await database.close();
  // Served until the pass in hand has ended: /readyz answers "stopping" meanwhile, /healthz ok.
  await http?.close();
  log.info("worker stopped");
}
