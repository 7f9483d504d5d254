// A stand-in Prometheus Pushgateway over node:http, with the real one's group semantics for what
// generect-sync uses: POST (pushAdd) stores a group's body under its path, DELETE removes the group
// (202, also when absent), GET /metrics lists every group held. `received` records every request.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  url: string;
  body: string;
}

export interface FakePushgateway {
  url: string;
  received: Received[];
  /** Groups held, by path (e.g. /metrics/job/generect_sync/account/acct/command/run) → last pushed body. */
  groups: Map<string, string>;
  /** When set, every request is answered with this status (a failing Pushgateway). */
  failWith?: number;
  close(): Promise<void>;
}

export async function startFakePushgateway(): Promise<FakePushgateway> {
  const state: Omit<FakePushgateway, "url" | "close"> = { received: [], groups: new Map() };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const url = req.url!;
      state.received.push({ method: req.method!, url, body });
      if (state.failWith) return void res.writeHead(state.failWith).end("injected failure");
      if (req.method === "POST" || req.method === "PUT") {
        state.groups.set(url, body);
        return void res.writeHead(200).end();
      }
      if (req.method === "DELETE") {
        state.groups.delete(url);
        return void res.writeHead(202).end();
      }
      res.writeHead(200, { "Content-Type": "text/plain" }).end([...state.groups.values()].join("\n"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** The value of a sample line `name value` or `name{labels} value` in Prometheus text. */
export function sample(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(" ")[0]);
}
