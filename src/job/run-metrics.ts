import type { Config } from "../config/index.js";
import type { Logger } from "../log.js";
import type { LiveMetrics } from "../metrics/live.js";
import { pushRunMetrics } from "../metrics/push.js";
import type { RunReport } from "../metrics/series.js";
import type { SyncSummary } from "./run.js";

/**
 * Times a run and reports its outcome, whether it succeeded or not: pushed when PUSHGATEWAY_URL is
 * set, and recorded in the worker's live registry when there is one.
 */
export async function withRunMetrics<T extends Partial<SyncSummary> & { apiRequests: number; deprecatedResponses?: number }>(
  config: Config,
  command: string,
  log: Logger,
  run: () => Promise<T>,
  live?: LiveMetrics,
): Promise<T> {
  const started = performance.now();
  const report = async (succeeded: boolean, result?: T) => {
    const outcome: RunReport = {
      account: config.account,
      command,
      succeeded,
      durationSeconds: (performance.now() - started) / 1000,
      apiRequests: result?.apiRequests ?? 0,
      retries: result?.retries ?? 0,
      deprecatedResponses: result?.deprecatedResponses ?? 0,
      rows:
        result?.inserted === undefined
          ? undefined
          : {
              inserted: result.inserted,
              updated: result.updated ?? 0,
              unchanged: result.unchanged ?? 0,
              deleted: result.deleted ?? 0,
              rejected: result.rejected ?? 0,
            },
      watermarkMs: result?.watermark === undefined ? undefined : result.watermark / 1000,
    };
    live?.record(outcome);
    if (config.pushgatewayUrl) await pushRunMetrics(config.pushgatewayUrl, outcome, log);
  };
  try {
    const result = await run();
    await report(true, result);
    return result;
  } catch (error) {
    await report(false);
    throw error;
  }
}
