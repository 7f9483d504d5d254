import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Readiness } from "../db/schema-check.js";
import { SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { LiveMetrics } from "../metrics/live.js";

/** What the worker serves on WORKER_HTTP_PORT; the Deployment's probes and scrape annotations use the same paths. */
export const workerPaths = { liveness: "/healthz", readiness: "/readyz", metrics: "/metrics" } as const;

export interface WorkerHttpOptions {
  port: number;
  /** @default all interfaces (a probe comes from the kubelet, on the pod's IP) */
  host?: string;
  metrics: LiveMetrics;
  /** Must answer quickly whatever the database does: a probe that hangs counts as a failure anyway. */
  readiness: () => Promise<Readiness>;
  log: Logger;
}

export interface WorkerHttp {
  port: number;
  close(): Promise<void>;
}

function reply(res: http.ServerResponse, status: number, body: string, head: boolean, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-store" });
  res.end(head ? undefined : body);
}

/**
 * The worker's window for Kubernetes and Prometheus: /healthz answers while the process can answer
 * at all (liveness: a restart would not fix a database that is down, so it is not checked here),
 * /readyz when the database is reachable and migrated, /metrics in Prometheus' text format.
 */
export async function startWorkerHttp({ port, host, metrics, readiness, log }: WorkerHttpOptions): Promise<WorkerHttp> {
  const server = http.createServer((req, res) => {
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) return reply(res, 405, "method not allowed\n", head);
    const path = new URL(req.url ?? "/", "http://worker").pathname;
    const answer = async () => {
      switch (path) {
        case workerPaths.liveness:
          return reply(res, 200, "ok\n", head);
        case workerPaths.readiness: {
          const state = await readiness();
          return state.ready ? reply(res, 200, "ready\n", head) : reply(res, 503, `not ready: ${state.reason}\n`, head);
        }
        case workerPaths.metrics:
          return reply(res, 200, await metrics.metrics(), head, metrics.contentType);
        default:
          return reply(res, 404, `not found: try ${Object.values(workerPaths).join(", ")}\n`, head);
      }
    };
    answer().catch((error: unknown) => {
      log.warn({ path, err: (error as Error).message }, "worker http: could not answer");
      if (!res.headersSent) reply(res, 500, "internal error\n", head);
      else res.destroy();
    });
  });
  // A scraper or probe that opens a connection and sends nothing must not hold a socket for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new SyncError("WORKER_HTTP_LISTEN", `cannot serve on WORKER_HTTP_PORT=${port}: ${error.code ?? error.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ port: bound, paths: Object.values(workerPaths) }, "worker http listening");
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
