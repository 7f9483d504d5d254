import { version } from "../version.js";

/** One run's outcome, as the Pushgateway and the worker's /metrics report it. */
export interface RunReport {
  account: string;
  command: string;
  succeeded: boolean;
  durationSeconds: number;
  rows?: { inserted: number; updated: number; unchanged: number; deleted: number; rejected: number };
  apiRequests: number;
  retries: number;
  /** Responses that carried a `Deprecation` or `Sunset` header. */
  deprecatedResponses: number;
  /** The watermark after the run, in ms since the epoch. */
  watermarkMs?: number;
}

interface SeriesDefinition {
  help: string;
  labelNames?: readonly string[];
}

/**
 * Every series a run reports. Both the Pushgateway push and the worker's /metrics are built from
 * this one table, so a dashboard written for one reads the other (the worker adds `account` and
 * `command` as labels where the Pushgateway has them as its grouping key).
 */
export const runSeries = {
  generect_sync_run_duration_seconds: { help: "Wall time of the last run." },
  generect_sync_last_run_success: { help: "1 when the last run succeeded, 0 when it failed or was interrupted." },
  generect_sync_last_run_timestamp_seconds: { help: "When the last run ended." },
  generect_sync_api_requests: { help: "API requests of the last run, retries included." },
  generect_sync_api_retries: { help: "Retried API requests of the last run." },
  generect_sync_api_deprecated_responses: { help: "API responses of the last run that carried a Deprecation or Sunset header." },
  generect_sync_rows: {
    help: "Transaction rows of the last run by outcome (rejected: kept in quarantined_rows).",
    labelNames: ["outcome"],
  },
  generect_sync_watermark_lag_seconds: { help: "How far the watermark is behind now." },
  generect_sync_last_success_timestamp_seconds: { help: "When a run last succeeded." },
  // Prometheus' build_info convention: the version as a label of a constant 1.
  generect_sync_build_info: { help: "1, labelled with the generect-sync version that ran the last run.", labelNames: ["version"] },
} as const satisfies Record<string, SeriesDefinition>;

export type SeriesName = keyof typeof runSeries;

export interface Sample {
  name: SeriesName;
  value: number;
  labels?: Record<string, string>;
}

/**
 * The values of one run at `now`. The last-success timestamp comes only from successful runs, so a
 * failure leaves the previous success visible for alerting.
 */
export function runSamples(report: RunReport, now: number): Sample[] {
  const samples: Sample[] = [
    { name: "generect_sync_run_duration_seconds", value: report.durationSeconds },
    { name: "generect_sync_last_run_success", value: report.succeeded ? 1 : 0 },
    { name: "generect_sync_last_run_timestamp_seconds", value: now / 1000 },
    { name: "generect_sync_api_requests", value: report.apiRequests },
    { name: "generect_sync_api_retries", value: report.retries },
    { name: "generect_sync_api_deprecated_responses", value: report.deprecatedResponses },
  ];
  samples.push({ name: "generect_sync_build_info", value: 1, labels: { version } });
  for (const [outcome, value] of Object.entries(report.rows ?? {}))
    samples.push({ name: "generect_sync_rows", value, labels: { outcome } });
  if (report.watermarkMs !== undefined)
    samples.push({ name: "generect_sync_watermark_lag_seconds", value: Math.max(0, (now - report.watermarkMs) / 1000) });
  if (report.succeeded) samples.push({ name: "generect_sync_last_success_timestamp_seconds", value: now / 1000 });
  return samples;
}
