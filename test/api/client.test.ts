import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { GenerectClient } from "../../src/api/client.js";
import { ApiRequestError } from "../../src/errors.js";
import { Ledger, type SimulatorHandle, seedTransactions } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/time.js";
import { startTestSimulator, testToken } from "../helpers/sync.js";

describe("Generect client against the simulator", () => {
  let sim: SimulatorHandle;
  const window = { gte: parseTimestamp("2020-01-01")!, lt: parseTimestamp("2030-01-01")!, limit: 100, offset: 0 };
  const client = (options: Partial<ConstructorParameters<typeof GenerectClient>[0]> = {}) =>
    new GenerectClient({
      baseUrl: sim.url,
      token: testToken,
      timeoutMs: 2000,
      retries: 3,
      minRetryDelayMs: 5,
      maxRetryDelayMs: 20,
      ...options,
    });

  beforeAll(async () => {
    sim = await startTestSimulator({
      ledger: new Ledger(seedTransactions({ seed: 1, rows: 250, from: new Date("2025-01-01"), to: new Date("2025-06-01") })),
    });
  });
  beforeEach(() => {
    sim.faults.intercept = undefined;
    sim.faults.throttleNext = 0;
    sim.faults.retryAfterSeconds = undefined;
  });
  afterAll(() => sim?.close());

  test("reads a page with the server's max_limit", async () => {
    const page = await client().listTransactions(window);
    expect(page).toMatchObject({ count: 250, limit: 100, maxLimit: 100, offset: 0 });
    expect(page.rows).toHaveLength(100);
  });

  test("429 is retried; Retry-After is honoured", async () => {
    sim.faults.throttleNext = 2;
    sim.faults.retryAfterSeconds = 1;
    const c = client();
    const started = Date.now();
    await c.listTransactions(window);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(c.stats).toEqual({ requests: 3, retries: 2 });
  });

  test("Retry-After: 0 and no Retry-After fall back to the exponential backoff", async () => {
    sim.faults.throttleNext = 1;
    sim.faults.retryAfterSeconds = 0;
    const c = client();
    await c.listTransactions(window);
    sim.faults.throttleNext = 1;
    sim.faults.retryAfterSeconds = undefined;
    await c.listTransactions(window);
    expect(c.stats).toEqual({ requests: 4, retries: 2 });
  });

  test("5xx, a reset connection and a truncated body are retried", async () => {
    const faults = [
      { status: 502, body: "<html>bad gateway</html>" },
      "destroy" as const,
      { status: 200, body: '{"count": 250, "results": [' },
      { status: 503, body: "" },
    ];
    sim.faults.intercept = () => faults.shift();
    const c = client({ retries: 5 });
    const page = await c.listTransactions(window);
    expect(page.rows).toHaveLength(100);
    expect(c.stats).toEqual({ requests: 5, retries: 4 });
  });

  test("a request slot is held for the HTTP exchange only: reading the answer, and a body that fails it, happen after the slot is free", async () => {
    const faults = [{ status: 200, body: '{"count": 250, "results": [' }];
    sim.faults.intercept = () => faults.shift();
    const exchanges: string[] = [];
    let held = 0;
    const requestSlot = async <T>(exchange: () => Promise<T>): Promise<T> => {
      held += 1;
      try {
        const response = await exchange();
        exchanges.push("answered");
        return response;
      } catch (error) {
        exchanges.push("failed");
        throw error;
      } finally {
        held -= 1;
      }
    };
    const c = client({ requestSlot });
    const page = await c.listTransactions(window);
    expect(page.rows).toHaveLength(100);
    // The truncated body was a complete exchange: it failed validation after its slot was given back, then was retried.
    expect(exchanges).toEqual(["answered", "answered"]);
    expect(held).toBe(0);
    expect(c.stats).toEqual({ requests: 2, retries: 1 });
  });

  test("a server that keeps failing ends with a clear error after the retry budget", async () => {
    sim.faults.intercept = () => ({ status: 503, body: '{"detail": "down for maintenance"}' });
    const c = client({ retries: 2 });
    await expect(c.listTransactions(window)).rejects.toThrow(
      /API answered 503 for GET \/api\/auth\/transactions\/\?created_at__gte=2020-01-01T00%3A00%3A00.000000.*: down for maintenance/,
    );
    expect(c.stats).toEqual({ requests: 3, retries: 2 });
  });

  test("a stop during a Retry-After wait rejects at once with the signal's reason", async () => {
    sim.faults.throttleNext = 5;
    sim.faults.retryAfterSeconds = 30;
    const stop = new AbortController();
    const reason = new Error("stopped by the test");
    const c = client({ signal: stop.signal, onRetry: () => setTimeout(() => stop.abort(reason), 50) });
    const started = Date.now();
    await expect(c.listTransactions(window)).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(c.stats).toEqual({ requests: 1, retries: 1 });
  });

  test.each([
    [413, undefined, 1, "API_HTTP_ERROR"],
    [413, "0", 4, "API_UNAVAILABLE"],
    [501, undefined, 4, "API_UNAVAILABLE"],
    [422, undefined, 1, "API_HTTP_ERROR"],
  ])("%i (Retry-After %s): %i request(s), %s", async (status, retryAfter, requests, code) => {
    const headers: Record<string, string> = retryAfter === undefined ? {} : { "Retry-After": retryAfter };
    sim.faults.intercept = () => ({ status, body: '{"detail": "no"}', headers });
    const c = client();
    const error = (await c.listTransactions(window).catch((e: unknown) => e)) as ApiRequestError;
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({
      code,
      status,
      message: expect.stringContaining(`API answered ${status} for GET /api/auth/transactions/`),
    });
    expect(c.stats.requests).toBe(requests);
  });

  test("a hanging response times out and is retried", async () => {
    let hang: Promise<unknown> | undefined;
    sim.faults.intercept = async () => {
      if (hang) return undefined;
      hang = new Promise((resolve) => setTimeout(resolve, 1500));
      await hang;
      return undefined;
    };
    const c = client({ timeoutMs: 300 });
    await c.listTransactions(window);
    expect(c.stats.retries).toBe(1);
    await hang; // the server's side of the hung request ends within the test, not in a later file's
  });

  test.each([
    [401, undefined, "API token rejected (401 Authentication credentials were not provided.)"],
    [403, "wrong-token-abcdef", "API token rejected (403 You do not have permission to perform this action.)"],
  ])("%i is not retried and is said in plain words", async (_status, token, message) => {
    const c = new GenerectClient({ baseUrl: sim.url, token: token ?? "", timeoutMs: 2000, retries: 3 });
    const error = (await c.listTransactions(window).catch((e: unknown) => e)) as ApiRequestError;
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error.message).toContain(message);
    expect(c.stats.requests).toBe(1);
    if (token) expect(JSON.stringify(error) + error.message + String(error.stack)).not.toContain(token);
  });

  test("400 is not retried", async () => {
    const c = client();
    await expect(
      c.spentCredits({ timezone: "Mars/Olympus", period: "day", startDate: "2025-01-01", endDate: "2025-01-02" }),
    ).rejects.toThrow(/API rejected the request .*\(400 /);
    expect(c.stats.requests).toBe(1);
  });

  test("an unreachable API is named without the token", async () => {
    const c = new GenerectClient({ baseUrl: "http://127.0.0.1:9", token: testToken, timeoutMs: 500, retries: 1, minRetryDelayMs: 1 });
    const error = (await c.listTransactions(window).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/could not reach the API at 127\.0\.0\.1:9 .*ECONNREFUSED/);
    expect(`${error.message}${error.stack}${JSON.stringify(error)}`).not.toContain(testToken);
  });
});
