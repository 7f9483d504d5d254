// A SIGTERM that reaches the worker while it is still starting (its handler installed, the
// database being checked) must stop it, as one arriving later does.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { loadConfig } from "../../src/config/index.js";
import { InterruptedError } from "../../src/errors.js";
import { runWorker } from "../../src/job/worker.js";
import { createLogger } from "../../src/log.js";
import { waitFor } from "../faults/support.js";
import { spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { testToken } from "../helpers/sync.js";

/** A proxy to Postgres that holds each new connection until `open()` is called. */
async function gatedProxy(targetUrl: string) {
  const target = new URL(targetUrl);
  let opened = false;
  const held: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    sockets.add(client);
    client.on("error", () => {});
    client.pause();
    const forward = () => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      sockets.add(upstream);
      upstream.on("error", () => client.destroy());
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    };
    if (opened) forward();
    else held.push(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    accepted: () => accepted,
    open() {
      opened = true;
      for (const f of held.splice(0)) f();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("worker: SIGTERM while starting", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase("worker-early-term");
  });
  afterAll(async () => {
    await db?.drop();
  });

  test("runWorker given a signal already aborted returns (it must not wait for an abort event that already fired)", async () => {
    const config = loadConfig({ DATABASE_URL: db.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" });
    const log = createLogger({ secrets: [testToken], level: "silent" });
    const controller = new AbortController();
    controller.abort(new InterruptedError("SIGTERM"));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      runWorker({ config, databaseUrl: db.url, log, signal: controller.signal }).then(() => "stopped"),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("still running after 5 s"), 5_000);
      }),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe("stopped");
  }, 20_000);

  test("a SIGTERM during the start-up database check stops the worker with 143", async () => {
    const proxy = await gatedProxy(db.url);
    const worker = spawnCli(["worker"], {
      DATABASE_URL: proxy.url,
      GENERECT_API_URL: "http://127.0.0.1:9",
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_CRON: "0 0 1 1 *",
      SNAPSHOT_CRON: "0 0 1 1 *",
      VERIFY_CRON: "0 0 1 1 *",
    });
    try {
      // The first connection is assertMigrated's, made after the signal handlers are installed.
      await waitFor(() => proxy.accepted() >= 1, 30_000, "the worker's start-up check to connect");
      worker.child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.open();
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        worker.done,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), 15_000);
        }),
      ]);
      clearTimeout(timer);
      expect(result?.code ?? "still running 15 s after SIGTERM").toBe(143);
    } finally {
      if (worker.child.exitCode === null) worker.child.kill("SIGKILL");
      await worker.done;
      await proxy.close();
    }
  }, 60_000);
});
