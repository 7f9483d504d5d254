import type { Config } from "../config/index.js";
import type { Logger } from "../log.js";
import type { SyncSummary } from "../sync/run.js";
import { pushRunMetrics } from "./push.js";

/** Times a run and pushes its outcome when PUSHGATEWAY_URL is set, whether it succeeded or not. */
export async function withRunMetrics<T extends Partial<SyncSummary> & { apiRequests: number }>(
  config: Config,
  command: string,
  log: Logger,
  run: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const push = (succeeded: boolean, result?: T) =>
    config.pushgatewayUrl
      ? pushRunMetrics(
          config.pushgatewayUrl,
          {
            account: config.account,
            command,
            succeeded,
            durationSeconds: (performance.now() - started) / 1000,
            apiRequests: result?.apiRequests ?? 0,
            retries: result?.retries ?? 0,
            rows: result?.inserted === undefined ? undefined : { inserted: result.inserted, updated: result.updated ?? 0, unchanged: result.unchanged ?? 0, deleted: result.deleted ?? 0, rejected: result.rejected ?? 0 },
            watermarkMs: result?.watermark === undefined ? undefined : result.watermark / 1000,
          },
          log,
        )
      : Promise.resolve();
  try {
    const result = await run();
    await push(true, result);
    return result;
  } catch (error) {
    await push(false);
    throw error;
  }
}
