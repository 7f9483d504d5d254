// The client against answers that must stop it: bodies past the size bound (read no further, not
// retried, the process's memory untouched) and test-mode answers (exit code 2, not retried).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { GenerectClient } from "../../src/api/client.js";
import { ExitCode } from "../../src/errors.js";
import { Ledger, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/time.js";
import { startTestSimulator, testToken } from "../helpers/sync.js";

const window = { gte: parseTimestamp("2020-01-01")!, lt: parseTimestamp("2030-01-01")!, limit: 100, offset: 0 };
const ledger = () => new Ledger(seedTransactions({ seed: 2, rows: 150, from: new Date("2025-01-01"), to: new Date("2025-03-01") }));

describe("bodies past the bound", () => {
  let sim: SimulatorHandle;
  const client = (maxResponseBytes?: number) =>
    new GenerectClient({
      baseUrl: sim.url,
      token: testToken,
      timeoutMs: 20_000,
      retries: 3,
      minRetryDelayMs: 5,
      maxRetryDelayMs: 20,
      maxResponseBytes,
    });
  beforeAll(async () => {
    sim = await startTestSimulator({ ledger: ledger() });
  });
  afterAll(() => sim?.close());

  test("a body that never ends is cut at the bound: one request, no retry, memory barely moves", async () => {
    sim.faults.endlessBodyNext = 1;
    const c = client(4 * 1024 * 1024);
    const rss = process.memoryUsage().rss;
    const error = (await c.listTransactions(window).catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe("API_RESPONSE_TOO_LARGE");
    expect(error.message).toMatch(
      /^API response to GET \/api\/auth\/transactions\/\?\S+ exceeded 4194304 bytes \(GENERECT_MAX_RESPONSE_BYTES\): not read further$/,
    );
    expect(c.stats).toEqual({ requests: 1, retries: 0 });
    expect(sim.stats.injected.endlessBody).toBe(1);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024); // the 4 MiB read and its copies, not an unbounded buffer
  });

  test("a body announced past the bound is refused on its headers", async () => {
    Object.assign(sim.faults, { oversizeBodyNext: 1, oversizeBodyBytes: 300_000 });
    const c = client(200_000);
    const error = (await c.listTransactions(window).catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe("API_RESPONSE_TOO_LARGE");
    expect(c.stats).toEqual({ requests: 1, retries: 0 });
  });

  test("an oversize body under the bound is read, and is a valid (empty) page: the bound alone refused the others", async () => {
    Object.assign(sim.faults, { oversizeBodyNext: 1, oversizeBodyBytes: 300_000 });
    const page = await client(400_000).listTransactions(window);
    expect(page).toMatchObject({ count: 0, rows: [] });
    // and an honest page passes under the default bound
    expect((await client().listTransactions(window)).rows).toHaveLength(100);
  });
});

describe("test-mode answers", () => {
  const testKey = "test_0c1d2e3f4a5b6c7d";
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startTestSimulator({ token: testKey, ledger: ledger() });
  });
  afterAll(() => sim?.close());

  test("stop the client at the first answer, with exit code 2 and no retry", async () => {
    const c = new GenerectClient({ baseUrl: sim.url, token: testKey, timeoutMs: 5_000, retries: 3, minRetryDelayMs: 5 });
    const error = (await c.listTransactions(window).catch((e: unknown) => e)) as Error & { code?: string; exitCode?: number };
    expect([error.code, error.exitCode]).toEqual(["API_TEST_MODE", ExitCode.Usage]);
    expect(error.message).not.toContain(testKey);
    expect(c.stats).toEqual({ requests: 1, retries: 0 });
  });
});
