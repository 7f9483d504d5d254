import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { JsonNumber, type SimulatorHandle } from "../../src/simulator/index.js";
import { fixtureLedger, startFixtureSimulator } from "./filters-fixture.js";
import { get, spentPath, TOKEN, txPath, withSimulator } from "./support.js";

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startFixtureSimulator();
});
afterAll(() => sim.close());

describe("authentication", () => {
  test.each([txPath(), spentPath({ timezone: "UTC", period: "day", start_date: "2025-01-01", end_date: "2025-01-31" })])(
    "%s without a token is 401",
    async (path) => {
      const res = await get(sim, path, null);
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ detail: "Authentication credentials were not provided." });
    },
  );

  test("a header without the Token prefix is 401", async () => {
    const res = await fetch(`${sim.url}${txPath()}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Authentication credentials were not provided." });
    const bare = await fetch(`${sim.url}${txPath()}`, { headers: { Authorization: TOKEN } });
    expect(bare.status).toBe(401);
  });

  test("a wrong token is 403", async () => {
    const res = await get(sim, txPath(), "not-the-token");
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ detail: "You do not have permission to perform this action." });
  });

  test("the right token is 200", async () => {
    expect((await get(sim, txPath())).status).toBe(200);
  });
});

describe("routing", () => {
  test("unknown path is 404 with the API's body", async () => {
    for (const path of ["/api/auth/nope/", "/", "/api/auth/transactions/extra/"]) {
      const res = await get(sim, path);
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ detail: "Not found." });
    }
  });

  test("a path without the trailing slash redirects (301) to the slashed path, keeping the query", async () => {
    const res = await get(sim, "/api/auth/transactions?limit=5&status=success");
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("/api/auth/transactions/?limit=5&status=success");
    const spent = await get(sim, "/api/auth/transactions/spent_credits?period=day");
    expect(spent.status).toBe(301);
    expect(spent.headers.get("location")).toBe("/api/auth/transactions/spent_credits/?period=day");
  });

  test("following the redirect works", async () => {
    const res = await fetch(`${sim.url}/api/auth/transactions?limit=2`, { headers: { Authorization: `Token ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toHaveLength(2);
  });

  test("missingSlash: 404 answers 404 instead", async () => {
    await withSimulator({ ledger: fixtureLedger(), missingSlash: "404" }, async (s) => {
      const res = await get(s, "/api/auth/transactions?limit=5");
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ detail: "Not found." });
    });
  });

  test("methods other than GET are 405", async () => {
    const res = await fetch(`${sim.url}${txPath()}`, { method: "POST", headers: { Authorization: `Token ${TOKEN}` } });
    expect(res.status).toBe(405);
  });
});

describe("faults", () => {
  test("ignoreFilters serves unfiltered rows", async () => {
    await withSimulator({ ledger: fixtureLedger() }, async (s) => {
      s.faults.ignoreFilters = true;
      const res = await get(s, txPath("status=pending"));
      expect(res.json.count).toBe(6);
    });
  });

  test("transformRow tampers with rows as sent", async () => {
    await withSimulator({ ledger: fixtureLedger() }, async (s) => {
      const seen: unknown[] = [];
      s.faults.transformRow = (row) => {
        seen.push(row.amount);
        const { description: _dropped, ...rest } = row;
        return { ...rest, amount: String(row.amount), after_balance: new JsonNumber("1e400"), created_at: "2025-01-07" };
      };
      const res = await get(s, txPath("limit=1"));
      expect(seen[0]).toBeInstanceOf(JsonNumber);
      expect(String(seen[0])).toBe("-0.5");
      expect(res.text).toContain('"amount":"-0.5"'); // now a JSON string
      expect(res.text).toContain('"after_balance":1e400'); // verbatim literal
      expect(res.json.results[0].description).toBeUndefined();
      expect(res.json.results[0].created_at).toBe("2025-01-07");
    });
  });

  test("beforePage can change the ledger in the middle of a walk", async () => {
    await withSimulator({ ledger: fixtureLedger() }, async (s) => {
      const calls: number[] = [];
      s.faults.beforePage = ({ offset, limit, query }) => {
        calls.push(offset);
        expect(limit).toBe(3);
        expect(query.get("limit")).toBe("3");
        if (offset === 3) s.ledger.add({ created_at: "2025-01-09T00:00:00", amount: "-1" });
      };
      const first = await get(s, txPath("limit=3"));
      const second = await get(s, txPath("limit=3&offset=3"));
      expect(first.json.count).toBe(6);
      expect(second.json.count).toBe(7); // the insert is visible on this very page
      expect(second.json.results[0].id).toBe(first.json.results[2].id); // and shifted the rows down
      expect(calls).toEqual([0, 3]);
    });
  });

  test("latency is the time from a request's arrival to its answer, the simulator's own work included", async () => {
    await withSimulator({ ledger: fixtureLedger(), faults: { latencyMs: 150 } }, async (s) => {
      const timed = async (path: string) => {
        const started = performance.now();
        const res = await get(s, path);
        return { status: res.status, ms: performance.now() - started };
      };
      const plain = await timed(txPath());
      expect(plain.status).toBe(200);
      expect(plain.ms).toBeGreaterThanOrEqual(150); // never early, though Node's timers may fire so
      // 100 ms of work building the page is part of the 150, not added to it.
      s.faults.beforePage = () => new Promise((resolve) => setTimeout(resolve, 100));
      const working = await timed(txPath());
      expect(working.status).toBe(200);
      expect(working.ms).toBeGreaterThanOrEqual(150);
      expect(working.ms).toBeLessThan(240);
      // Work longer than the latency is answered as soon as it is done.
      s.faults.beforePage = () => new Promise((resolve) => setTimeout(resolve, 300));
      const slow = await timed(txPath());
      expect(slow.ms).toBeGreaterThanOrEqual(300);
      expect(slow.ms).toBeLessThan(440);
      // Refusals and faults wait out the same latency.
      s.faults.throttleNext = 1;
      const throttled = await timed(txPath());
      expect(throttled.status).toBe(429);
      expect(throttled.ms).toBeGreaterThanOrEqual(150);
    });
  });

  test("throttleNext answers 429, optionally with Retry-After", async () => {
    await withSimulator({ ledger: fixtureLedger() }, async (s) => {
      s.faults.throttleNext = 2;
      s.faults.retryAfterSeconds = 3;
      const a = await get(s, txPath());
      expect(a.status).toBe(429);
      expect(a.json).toEqual({ detail: "Request was throttled." });
      expect(a.headers.get("retry-after")).toBe("3");
      expect((await get(s, txPath())).status).toBe(429);
      expect((await get(s, txPath())).status).toBe(200);
    });
  });

  test("intercept can answer anything or drop the connection", async () => {
    await withSimulator({ ledger: fixtureLedger() }, async (s) => {
      s.faults.intercept = ({ query }) =>
        query.get("boom") === "html"
          ? { status: 502, body: "<html>Bad Gateway</html>", headers: { "Content-Type": "text/html" } }
          : query.get("boom") === "drop"
            ? "destroy"
            : undefined;
      const html = await get(s, txPath("boom=html"));
      expect(html.status).toBe(502);
      expect(html.text).toContain("Bad Gateway");
      await expect(fetch(`${s.url}${txPath("boom=drop")}`)).rejects.toThrow();
      expect((await get(s, txPath())).status).toBe(200);
    });
  });

  test("stats count requests per path", async () => {
    await withSimulator({ ledger: fixtureLedger() }, async (s) => {
      await get(s, txPath());
      await get(s, txPath("offset=2"));
      await get(s, "/nope/");
      expect(s.stats.requests).toBe(3);
      expect(s.stats.byPath).toEqual({ "/api/auth/transactions/": 2, "/nope/": 1 });
    });
  });
});

test("url has no trailing slash and close() returns despite keep-alive sockets", async () => {
  const s = await (await import("../../src/simulator/index.js")).startSimulator({ token: TOKEN, rows: 10 });
  expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(s.ledger.size).toBe(10);
  await get(s, txPath());
  await s.close();
});
