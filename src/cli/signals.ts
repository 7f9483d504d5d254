import { InterruptedError } from "../errors.js";

/**
 * First SIGINT/SIGTERM: abort the run's signal, so no new page starts and the window in hand rolls
 * back; the run is then marked interrupted. A second signal exits at once (the operator insists).
 */
export function onShutdownSignal() {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === "SIGTERM" ? 143 : 130);
    controller.abort(new InterruptedError(signal));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
