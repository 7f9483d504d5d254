// A TCP proxy in front of a server (Postgres), switchable at run time, for what a probe meets when
// the database goes away: "forward" (normal), "blackhole" (connections accepted, nothing ever
// answered: a dropped network path) and "refuse" (the port closed: connection refused).
import net from "node:net";

export type ProxyMode = "forward" | "blackhole" | "refuse";

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = "forward";
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    proxy.accepted += 1;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (mode === "blackhole") return; // hold it open, answer nothing
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
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
      if (mode === "refuse") await listen(port);
      // Existing connections go away with the mode they were opened under.
      for (const s of sockets) s.destroy();
      if (next === "refuse") await stop();
      mode = next;
    },
    close: stop,
  };
  return proxy;
}
