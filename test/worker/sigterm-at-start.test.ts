// A SIGTERM that reaches the worker while it is still starting (its handler installed, the
// database being checked) must stop it, as one arriving later does.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { loadConfig } from "../../src/config/index.js";
import { InterruptedError } from "../../src/errors.js";
import { runWorker } from "../../src/job/worker.js";
import { createLogger } from "../../src/log.js";
import { waitFor } from "../faults/support.js";
import { spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { testToken } from "../helpers/sync.js";
import { startProxyFor, throughProxy } from "../helpers/tcp-proxy.js";

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
    const proxy = await startProxyFor(db.url);
    await proxy.setMode("hold");
    const worker = spawnCli(["worker"], {
      DATABASE_URL: throughProxy(db.url, proxy),
      GENERECT_API_URL: "http://127.0.0.1:9",
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_CRON: "0 0 1 1 *",
      SNAPSHOT_CRON: "0 0 1 1 *",
      VERIFY_CRON: "0 0 1 1 *",
    });
    try {
      // The first connection is assertMigrated's, made after the signal handlers are installed.
      await waitFor(() => proxy.accepted >= 1, 30_000, "the worker's start-up check to connect");
      worker.child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.setMode("forward");
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
