import { Gauge, Pushgateway, Registry } from "prom-client";
import type { Logger } from "../log.js";
import { type RunReport, runSamples, runSeries, type SeriesName } from "./series.js";

export type { RunReport };

/** The Pushgateway's job label; with `account` and `command` it is the grouping key of a run's push. */
export const pushJobName = "generect_sync";

/** Commands that push, hence the groups an account can hold in a Pushgateway. */
export const pushedCommands = ["run", "snapshot"] as const;

/**
 * Pushes one run's metrics to a Prometheus Pushgateway, the convention for batch jobs (a scrape
 * would never find a CronJob pod alive). Grouped by job, account and command. A Pushgateway that
 * cannot be reached is logged, never fatal: metrics must not fail the sync.
 */
export async function pushRunMetrics(url: string, report: RunReport, log: Logger, now = Date.now()): Promise<void> {
  const registry = new Registry();
  const gauges = new Map<SeriesName, Gauge>();
  for (const { name, value, labels } of runSamples(report, now)) {
    let gauge = gauges.get(name);
    if (!gauge) {
      const { help, labelNames = [] } = runSeries[name] as { help: string; labelNames?: readonly string[] };
      gauge = new Gauge({ name, help, labelNames: [...labelNames], registers: [registry] });
      gauges.set(name, gauge);
    }
    if (labels) gauge.set(labels, value);
    else gauge.set(value);
  }

  const gateway = new Pushgateway(url, { timeout: 5_000 }, registry);
  try {
    // pushAdd (POST) replaces only the metrics pushed now, keeping last_success from earlier runs.
    await gateway.pushAdd({ jobName: pushJobName, groupings: { account: report.account, command: report.command } });
    log.debug({ pushgateway: url }, "metrics pushed");
  } catch (error) {
    log.warn({ pushgateway: url, err: (error as Error).message }, "could not push metrics");
  }
}

/**
 * Deletes an account's groups from the Pushgateway. Its series never expire: an account that left
 * would otherwise show its last run forever (and fire every staleness alert). Throws when the
 * Pushgateway refuses or cannot be reached, so the operator knows the groups are still there.
 */
export async function deletePushedMetrics(url: string, account: string, commands: readonly string[] = pushedCommands): Promise<string[]> {
  const gateway = new Pushgateway(url, { timeout: 5_000 }, new Registry());
  const deleted: string[] = [];
  for (const command of commands) {
    // Deleting a group that does not exist succeeds (202), so this is safe to repeat.
    await gateway.delete({ jobName: pushJobName, groupings: { account, command } });
    deleted.push(`job=${pushJobName},account=${account},command=${command}`);
  }
  return deleted;
}
