import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Ledger, seedTransactions, type SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { startTestSimulator, testToken } from "../helpers/sync.js";

const packageVersion: string = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")).version;

interface Received { method: string; url: string; body: string }

/** A stand-in Pushgateway: records what is pushed. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ method: req.method!, url: req.url!, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function metric(body: string, name: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

describe("Pushgateway metrics", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let gateway: Awaited<ReturnType<typeof startReceiver>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("metrics");
    gateway = await startReceiver();
    const to = new Date(Date.now() - 60_000);
    sim = await startTestSimulator({ ledger: new Ledger(seedTransactions({ seed: 71, rows: 400, from: new Date(to.getTime() - 20 * 86_400_000), to })) });
    env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct", PUSHGATEWAY_URL: gateway.url };
  });
  afterAll(async () => {
    await gateway?.close();
    await sim?.close();
    await db?.drop();
  });

  test("a successful run pushes duration, rows by outcome, requests, retries, last success and watermark lag", async () => {
    sim.faults.throttleNext = 1; // one retry, so retries > 0
    const result = await runCli(["run"], env);
    expect(result.code).toBe(0);
    const push = gateway.received.at(-1)!;
    expect(push.method).toBe("POST");
    expect(push.url).toBe("/metrics/job/generect_sync/account/acct/command/run");
    expect(push.body).toContain('generect_sync_rows{outcome="inserted"} 400');
    expect(push.body).toContain('generect_sync_rows{outcome="unchanged"} 0');
    expect(metric(push.body, "generect_sync_last_run_success")).toBe(1);
    expect(metric(push.body, "generect_sync_api_retries")).toBe(1);
    expect(metric(push.body, "generect_sync_api_requests")).toBeGreaterThan(5);
    expect(metric(push.body, "generect_sync_run_duration_seconds")).toBeGreaterThan(0);
    expect(Math.abs(metric(push.body, "generect_sync_last_success_timestamp_seconds")! - Date.now() / 1000)).toBeLessThan(30);
    expect(metric(push.body, "generect_sync_watermark_lag_seconds")).toBeLessThan(60);
    expect(push.body).not.toContain(testToken);
    expect(push.body).toContain(`generect_sync_build_info{version="${packageVersion}"} 1`);
  });

  test("rows the API sends as no transaction are pushed as outcome rejected", async () => {
    const [newest, next] = sim.ledger.all(); // inside the next run's 24 h lookback
    sim.ledger.setOdd(newest!.id, "missing-id");
    sim.ledger.setOdd(next!.id, "amount-as-string");
    try {
      const result = await runCli(["run"], env);
      expect(result.code).toBe(0);
      const push = gateway.received.at(-1)!;
      expect(push.body).toContain('generect_sync_rows{outcome="rejected"} 2');
      expect(metric(push.body, "generect_sync_last_run_success")).toBe(1);
    } finally {
      sim.ledger.setOdd(newest!.id);
      sim.ledger.setOdd(next!.id);
    }
  });

  test("a failed run pushes success 0 and leaves the last success alone", async () => {
    const result = await runCli(["run"], { ...env, GENERECT_API_TOKEN: "wrong-token-xyz" });
    expect(result.code).toBe(1);
    const push = gateway.received.at(-1)!;
    expect(metric(push.body, "generect_sync_last_run_success")).toBe(0);
    expect(metric(push.body, "generect_sync_last_success_timestamp_seconds")).toBeUndefined();
  });

  test("an unreachable Pushgateway does not fail the run", async () => {
    const result = await runCli(["run"], { ...env, PUSHGATEWAY_URL: "http://127.0.0.1:9" });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("could not push metrics");
  });
});
