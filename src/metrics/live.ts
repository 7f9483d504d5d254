import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { type RunReport, runSamples, runSeries, type SeriesName } from "./series.js";

const lagSeries = "generect_sync_watermark_lag_seconds";

/**
 * The worker's own registry, scraped on /metrics: the Pushgateway's series with `account` and
 * `command` as labels, plus the process' (CPU, memory, event loop, heap) labelled by account.
 */
export class LiveMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  readonly #gauges = new Map<SeriesName, Gauge>();
  readonly #watermarks = new Map<string, { labels: Record<string, string>; watermarkMs: number }>();

  constructor(account: string) {
    collectDefaultMetrics({ register: this.registry, labels: { account } });
    const watermarks = this.#watermarks;
    for (const [name, definition] of Object.entries(runSeries) as [SeriesName, { help: string; labelNames?: readonly string[] }][]) {
      const labelNames = ["account", "command", ...(definition.labelNames ?? [])];
      // The lag is measured at scrape time, not frozen at the run's end: between passes it grows,
      // and a failing account's lag keeps growing from its last committed watermark.
      const collect =
        name === lagSeries
          ? function (this: Gauge) {
              for (const { labels, watermarkMs } of watermarks.values()) this.set(labels, Math.max(0, (Date.now() - watermarkMs) / 1000));
            }
          : undefined;
      this.#gauges.set(name, new Gauge({ name, help: definition.help, labelNames, registers: [this.registry], collect }));
    }
  }

  record(report: RunReport, now = Date.now()): void {
    const base = { account: report.account, command: report.command };
    for (const { name, value, labels } of runSamples(report, now)) {
      if (name !== lagSeries) this.#gauges.get(name)!.set({ ...base, ...labels }, value);
    }
    if (report.watermarkMs !== undefined)
      this.#watermarks.set(`${report.account}\n${report.command}`, { labels: base, watermarkMs: report.watermarkMs });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
