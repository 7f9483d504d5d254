// The worker's HTTP face, as Kubernetes and Prometheus meet it: the real CLI in a child process
// with WORKER_HTTP_PORT, and plain HTTP requests to its port.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { type CliProcess, runCli, spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { sample } from "../helpers/pushgateway.js";
import { seededSimulator, syncRuns, testToken } from "../helpers/sync.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const never = "0 0 1 1 *"; // a schedule that does not fire during a test

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The port the worker logged ("worker http listening"); WORKER_HTTP_PORT=0 lets the OS pick a free one. */
function listeningPort(worker: CliProcess): Promise<number> {
  return until(
    async () => {
      const match = /"port":(\d+)[^\n]*"msg":"worker http listening"/.exec(worker.output());
      return match ? Number(match[1]) : undefined;
    },
    30_000,
    `the worker's port in:\n${worker.output()}`,
  );
}

async function get(port: number, path: string, method = "GET"): Promise<{ status: number; body: string; type: string | null; ms: number }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return { status: response.status, body, type: response.headers.get("content-type"), ms: performance.now() - started };
}

describe("generect-sync worker with WORKER_HTTP_PORT", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;
  const workers: CliProcess[] = [];
  const start = (extra: Record<string, string>) => {
    const worker = spawnCli(["worker"], { ...env, ...extra });
    workers.push(worker);
    return worker;
  };
  const stop = async (worker: CliProcess) => {
    worker.child.kill("SIGTERM");
    return worker.done;
  };

  beforeAll(async () => {
    db = await createMigratedDatabase("worker-http");
    sim = await seededSimulator(67, 600, 30);
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      WORKER_HTTP_PORT: "0",
      SNAPSHOT_CRON: never,
    };
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    await sim?.close();
    await db?.drop();
  });

  test("/metrics: after a pass, the run's series equal its sync_runs row and the database, plus the process' own", async () => {
    // One pass a few seconds after start, the next 30 s later: the scrape below sees exactly one run.
    const second = (new Date().getUTCSeconds() + 8) % 60;
    const worker = start({ SYNC_CRON: `${second},${(second + 30) % 60} * * * * *` });
    const port = await listeningPort(worker);
    expect(await get(port, "/healthz")).toMatchObject({ status: 200, body: "ok\n" });

    const before = await get(port, "/metrics");
    expect(before.status).toBe(200);
    expect(before.type).toContain("text/plain; version=0.0.4");
    expect(before.body).toMatch(/^process_resident_memory_bytes\{account="acct"\} \d+/m);
    expect(before.body).toMatch(/^nodejs_heap_size_used_bytes\{account="acct"\} \d+/m);

    const labels = '{account="acct",command="run"}';
    const scraped = await until(
      async () => {
        const { body } = await get(port, "/metrics");
        return sample(body, `generect_sync_last_run_success${labels}`) === undefined ? undefined : body;
      },
      70_000,
      "the first pass in /metrics",
    );
    const [run] = (await syncRuns(db.url)).filter((r) => r.status === "succeeded");
    const [held] = await query<{ n: number; lag: number }>(
      db.url,
      `SELECT (SELECT count(*)::int FROM transactions WHERE account = 'acct') AS n,
              (SELECT extract(epoch FROM now() - watermark)::float8 FROM sync_state WHERE account = 'acct') AS lag`,
    );
    expect(held!.n).toBe(sim.ledger.size);
    const row = (outcome: string) => sample(scraped, `generect_sync_rows{account="acct",command="run",outcome="${outcome}"}`);
    expect({ inserted: row("inserted"), updated: row("updated"), unchanged: row("unchanged"), deleted: row("deleted") }).toEqual({
      inserted: run!.rows_inserted,
      updated: run!.rows_updated,
      unchanged: run!.rows_unchanged,
      deleted: run!.rows_deleted,
    });
    expect(run!.rows_inserted).toBe(sim.ledger.size);
    expect(sample(scraped, `generect_sync_last_run_success${labels}`)).toBe(1);
    expect(sample(scraped, `generect_sync_api_requests${labels}`)).toBe(run!.api_requests);
    expect(sample(scraped, `generect_sync_api_retries${labels}`)).toBe(run!.retries);
    expect(sample(scraped, `generect_sync_api_deprecated_responses${labels}`)).toBe(0);
    expect(
      Math.abs(sample(scraped, `generect_sync_last_success_timestamp_seconds${labels}`)! - run!.finished_at!.getTime() / 1000),
    ).toBeLessThan(2);
    // Measured at scrape time: a scrape later reads a larger lag, from the watermark the database holds.
    expect(Math.abs(sample(scraped, `generect_sync_watermark_lag_seconds${labels}`)! - held!.lag)).toBeLessThan(2);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await get(port, "/metrics");
    expect(sample(later.body, `generect_sync_watermark_lag_seconds${labels}`)).toBeGreaterThan(
      sample(scraped, `generect_sync_watermark_lag_seconds${labels}`)! + 1,
    );
    expect(scraped).not.toContain(testToken);

    const result = await stop(worker);
    expect(result.code).toBe(143);
    await expect(get(port, "/healthz")).rejects.toThrow(); // the port is closed with the worker
  }, 120_000);

  test("/readyz: ready when migrated, 503 naming the missing migration, ready again once it is applied; unknown paths 404", async () => {
    const worker = start({ SYNC_CRON: never });
    const port = await listeningPort(worker);
    const ready = await get(port, "/readyz");
    expect(ready).toMatchObject({ status: 200, body: "ready\n" });
    expect(ready.ms).toBeLessThan(1_000);

    const [last] = await query<{ id: string; migration_name: string }>(
      db.url,
      "SELECT id, migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1",
    );
    await query(db.url, "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE id = $1", [last!.id]);
    try {
      const missing = await get(port, "/readyz");
      expect(missing).toMatchObject({
        status: 503,
        body: `not ready: the database lacks 1 migration(s) (${last!.migration_name}): run \`generect-sync migrate\`\n`,
      });
      expect((await get(port, "/healthz")).status).toBe(200); // liveness does not depend on the database
    } finally {
      await query(db.url, "UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE id = $1", [last!.id]);
    }
    expect((await get(port, "/readyz")).status).toBe(200);
    expect(await get(port, "/readyz", "HEAD")).toMatchObject({ status: 200, body: "" });
    expect((await get(port, "/nope")).status).toBe(404);
    expect((await get(port, "/healthz", "POST")).status).toBe(405);
    expect((await stop(worker)).code).toBe(143);
  }, 60_000);

  describe("when the database goes away", () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      const target = new URL(db.url);
      proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    });
    afterAll(() => proxy?.close());

    test("/readyz answers 503 within its 2 s bound (black hole, refused), one check at a time, and recovers; /healthz stays 200", async () => {
      const url = new URL(db.url);
      url.hostname = "127.0.0.1";
      url.port = String(proxy.port);
      const worker = start({ SYNC_CRON: never, DATABASE_URL: url.toString() });
      const port = await listeningPort(worker);
      expect((await get(port, "/readyz")).status).toBe(200);

      await proxy.setMode("blackhole");
      const accepted = proxy.accepted;
      const probes = await Promise.all(Array.from({ length: 8 }, () => get(port, "/readyz")));
      for (const probe of probes) {
        expect(probe).toMatchObject({ status: 503, body: "not ready: the database did not answer within 2000 ms\n" });
        expect(probe.ms).toBeLessThan(3_000); // the Deployment's probe timeout
      }
      // Eight concurrent probes shared a check: one connection attempt reached the (dead) database, not
      // eight (two if a loaded machine let the last probe arrive after the first check's 2 s).
      expect(proxy.accepted - accepted).toBeGreaterThanOrEqual(1);
      expect(proxy.accepted - accepted).toBeLessThanOrEqual(2);
      const alive = await get(port, "/healthz");
      expect(alive).toMatchObject({ status: 200 });
      expect(alive.ms).toBeLessThan(500);

      await proxy.setMode("refuse");
      const refused = await get(port, "/readyz");
      expect(refused).toMatchObject({ status: 503, body: "not ready: the database is unreachable (ECONNREFUSED)\n" });
      expect(refused.ms).toBeLessThan(1_000);

      await proxy.setMode("forward");
      expect((await get(port, "/readyz")).status).toBe(200);
      expect((await stop(worker)).code).toBe(143);
    }, 60_000);
  });

  test("a bad WORKER_HTTP_PORT exits 2 naming it; a port in use exits 1 before any pass", async () => {
    const bad = await runCli(["worker"], { ...env, WORKER_HTTP_PORT: "70000" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('WORKER_HTTP_PORT="70000" must be a whole number from 0 to 65535');

    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const busy = await runCli(["worker"], { ...env, SYNC_ACCOUNT: "busy", WORKER_HTTP_PORT: String(port), SYNC_CRON: "* * * * * *" });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`[WORKER_HTTP_LISTEN]: cannot serve on WORKER_HTTP_PORT=${port}: EADDRINUSE`);
      expect((await query(db.url, "SELECT 1 FROM sync_runs WHERE account = 'busy'")).length).toBe(0);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 60_000);
});
