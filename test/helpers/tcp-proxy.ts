// A TCP proxy in front of a server (Postgres), switchable at run time, for what a probe meets when
// the database goes away: "forward" (normal), "blackhole" (connections accepted, nothing ever
// answered: a dropped network path), "hold" (connections accepted and held until the mode is
// "forward" again, then forwarded: a slow path) and "refuse" (the port closed: connection refused).
// cutClients() drops the connections on the client's side only, their server side left open, as a
// NAT or a proxy that forgot them does.
import net from "node:net";

export type ProxyMode = "forward" | "blackhole" | "hold" | "refuse";

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  setMode(mode: ProxyMode): Promise<void>;
  cutClients(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = "forward";
  const sockets = new Set<net.Socket>();
  const held: net.Socket[] = [];
  const forwarded = new Set<net.Socket>();
  const cut = new WeakSet<net.Socket>();
  const forward = (client: net.Socket) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(upstream);
    forwarded.add(client);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => {
      forwarded.delete(client);
      if (!cut.has(client)) upstream.destroy();
    });
    client.pipe(upstream, { end: false });
    upstream.pipe(client);
    client.resume();
  };
  const server = net.createServer((client) => {
    proxy.accepted += 1;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (mode === "blackhole") return; // hold it open, answer nothing
    if (mode === "hold") {
      client.pause();
      held.push(client);
      return;
    }
    forward(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const proxy: TcpProxy = {
    port,
    accepted: 0,
    async setMode(next) {
      if (next === mode) return;
      if (mode === "hold" && next === "forward") {
        mode = next;
        for (const client of held.splice(0)) if (!client.destroyed) forward(client);
        return;
      }
      if (mode === "refuse") await listen(port);
      // Existing connections go away with the mode they were opened under.
      for (const s of sockets) s.destroy();
      if (next === "refuse") await stop();
      mode = next;
    },
    cutClients() {
      for (const client of forwarded) {
        cut.add(client);
        client.unpipe();
        client.destroy();
      }
    },
    close: stop,
  };
  return proxy;
}

/** `url` (a database's) reached through `proxy`: its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const through = new URL(url);
  through.hostname = "127.0.0.1";
  through.port = String(proxy.port);
  return through.toString();
}

/** A proxy in front of the server of `url` (a database's). */
export function startProxyFor(url: string): Promise<TcpProxy> {
  const target = new URL(url);
  return startTcpProxy(target.hostname, Number(target.port || 5432));
}
