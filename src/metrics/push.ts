import { Gauge, Pushgateway, Registry } from "prom-client";
import type { Logger } from "../log.js";
import { version } from "../version.js";

export interface RunReport {
  account: string;
  command: string;
  succeeded: boolean;
  durationSeconds: number;
  rows?: { inserted: number; updated: number; unchanged: number; deleted: number; rejected: number };
  apiRequests: number;
  retries: number;
  /** The watermark after the run, in ms since the epoch. */
  watermarkMs?: number;
}

/**
 * Pushes one run's metrics to a Prometheus Pushgateway, the convention for batch jobs (a scrape
 * would never find a CronJob pod alive). Grouped by job and account; the last-success timestamp is
 * pushed only by successful runs, so a failure leaves the previous success visible for alerting.
 * A Pushgateway that cannot be reached is logged, never fatal: metrics must not fail the sync.
 */
export async function pushRunMetrics(url: string, report: RunReport, log: Logger, now = Date.now()): Promise<void> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });

  // Prometheus' build_info convention: the version as a label of a constant 1.
  gauge("generect_sync_build_info", "1, labelled with the generect-sync version that ran the last run.", ["version"]).set({ version }, 1);
  gauge("generect_sync_run_duration_seconds", "Wall time of the last run.").set(report.durationSeconds);
  gauge("generect_sync_last_run_success", "1 when the last run succeeded, 0 when it failed or was interrupted.").set(report.succeeded ? 1 : 0);
  gauge("generect_sync_last_run_timestamp_seconds", "When the last run ended.").set(now / 1000);
  gauge("generect_sync_api_requests", "API requests of the last run, retries included.").set(report.apiRequests);
  gauge("generect_sync_api_retries", "Retried API requests of the last run.").set(report.retries);
  if (report.rows) {
    const rows = gauge("generect_sync_rows", "Transaction rows of the last run by outcome (rejected: kept in quarantined_rows).", ["outcome"]);
    for (const [outcome, value] of Object.entries(report.rows)) rows.set({ outcome }, value);
  }
  if (report.watermarkMs !== undefined) {
    gauge("generect_sync_watermark_lag_seconds", "How far the watermark is behind now.").set(Math.max(0, (now - report.watermarkMs) / 1000));
  }
  if (report.succeeded) gauge("generect_sync_last_success_timestamp_seconds", "When a run last succeeded.").set(now / 1000);

  const gateway = new Pushgateway(url, { timeout: 5_000 }, registry);
  try {
    // pushAdd (POST) replaces only the metrics pushed now, keeping last_success from earlier runs.
    await gateway.pushAdd({ jobName: "generect_sync", groupings: { account: report.account, command: report.command } });
    log.debug({ pushgateway: url }, "metrics pushed");
  } catch (error) {
    log.warn({ pushgateway: url, err: (error as Error).message }, "could not push metrics");
  }
}
