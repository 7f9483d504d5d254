import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { type FakePushgateway, sample, startFakePushgateway } from "../helpers/pushgateway.js";
import { seededSimulator, testToken } from "../helpers/sync.js";

const packageVersion: string = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")).version;

describe("Pushgateway metrics", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let gateway: FakePushgateway;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("metrics");
    gateway = await startFakePushgateway();
    sim = await seededSimulator(71, 400, 20);
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      PUSHGATEWAY_URL: gateway.url,
    };
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
    expect(sample(push.body, "generect_sync_last_run_success")).toBe(1);
    expect(sample(push.body, "generect_sync_api_retries")).toBe(1);
    expect(sample(push.body, "generect_sync_api_requests")).toBeGreaterThan(5);
    expect(sample(push.body, "generect_sync_run_duration_seconds")).toBeGreaterThan(0);
    expect(Math.abs(sample(push.body, "generect_sync_last_success_timestamp_seconds")! - Date.now() / 1000)).toBeLessThan(30);
    expect(sample(push.body, "generect_sync_watermark_lag_seconds")).toBeLessThan(60);
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
      expect(sample(push.body, "generect_sync_last_run_success")).toBe(1);
    } finally {
      sim.ledger.setOdd(newest!.id);
      sim.ledger.setOdd(next!.id);
    }
  });

  test("a failed run pushes success 0 and leaves the last success alone", async () => {
    const result = await runCli(["run"], { ...env, GENERECT_API_TOKEN: "wrong-token-xyz" });
    expect(result.code).toBe(1);
    const push = gateway.received.at(-1)!;
    expect(sample(push.body, "generect_sync_last_run_success")).toBe(0);
    expect(sample(push.body, "generect_sync_last_success_timestamp_seconds")).toBeUndefined();
  });

  test("an unreachable Pushgateway does not fail the run", async () => {
    const result = await runCli(["run"], { ...env, PUSHGATEWAY_URL: "http://127.0.0.1:9" });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("could not push metrics");
  });

  test("deprecation: a run warns once, whatever the number of deprecated answers, and pushes their count", async () => {
    const sunset = "Thu, 01 Jul 2027 00:00:00 GMT";
    sim.faults.deprecationHeaders = {
      deprecation: "@1767225600",
      sunset,
      link: '<https://docs.generect.com/changelog>; rel="deprecation"',
    };
    try {
      for (const round of [1, 2]) {
        const before = sim.stats.injected.deprecation ?? 0;
        const result = await runCli(["run"], env);
        expect(result.code).toBe(0);
        const answered = (sim.stats.injected.deprecation ?? 0) - before;
        expect(answered).toBeGreaterThan(1); // users/me, every page and the spent-credits request carried the headers
        const warnings = result.stderr.split("\n").filter((line) => line.includes("as deprecated"));
        expect({ round, warnings: warnings.length }).toEqual({ round, warnings: 1 });
        const warning = JSON.parse(warnings[0]!) as Record<string, unknown>;
        // The run's first answer is its users/me checkpoint: the one warning names it.
        expect(warning).toMatchObject({
          level: 40,
          path: "/api/auth/users/me/",
          deprecation: "@1767225600",
          sunset,
          link: expect.stringContaining('rel="deprecation"'),
        });
        expect(warning.msg).toContain(`(sunset ${sunset})`);
        const push = gateway.received.at(-1)!;
        expect(sample(push.body, "generect_sync_api_deprecated_responses")).toBe(answered);
      }
    } finally {
      sim.faults.deprecationHeaders = undefined;
    }
    const quiet = await runCli(["run"], env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("deprecated");
    expect(sample(gateway.received.at(-1)!.body, "generect_sync_api_deprecated_responses")).toBe(0);
  }, 60_000);

  describe("metrics delete", () => {
    const group = (account: string, command: string) => `/metrics/job/generect_sync/account/${account}/command/${command}`;

    test("removes a retired account's groups (run and snapshot) and leaves the other accounts' alone", async () => {
      expect((await runCli(["run"], env)).code).toBe(0);
      expect((await runCli(["snapshot"], env)).code).toBe(0);
      expect((await runCli(["snapshot"], { ...env, SYNC_ACCOUNT: "other" })).code).toBe(0);
      expect([...gateway.groups.keys()]).toEqual(
        expect.arrayContaining([group("acct", "run"), group("acct", "snapshot"), group("other", "snapshot")]),
      );

      const result = await runCli(["metrics", "delete", "--account", "acct"], { PUSHGATEWAY_URL: gateway.url });
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout.trim().split("\n")).toEqual([
        "deleted job=generect_sync,account=acct,command=run",
        "deleted job=generect_sync,account=acct,command=snapshot",
      ]);
      expect([...gateway.groups.keys()].filter((g) => g.includes("/account/acct/"))).toEqual([]);
      expect(gateway.groups.has(group("other", "snapshot"))).toBe(true);
      expect(gateway.received.slice(-2).map((r) => `${r.method} ${r.url}`)).toEqual([
        `DELETE ${group("acct", "run")}`,
        `DELETE ${group("acct", "snapshot")}`,
      ]);

      // Repeating it is harmless; SYNC_ACCOUNT is the default account, --command narrows it to one group.
      const again = await runCli(["metrics", "delete", "--command", "snapshot"], { PUSHGATEWAY_URL: gateway.url, SYNC_ACCOUNT: "other" });
      expect(again).toMatchObject({ code: 0, stdout: "deleted job=generect_sync,account=other,command=snapshot\n" });
      expect(gateway.groups.size).toBe(0);
    }, 60_000);

    test("without PUSHGATEWAY_URL, with a bad account or action: exit 2 naming the problem, nothing deleted", async () => {
      const requests = gateway.received.length;
      const cases: [string[], Record<string, string>, string][] = [
        [["metrics", "delete"], {}, "PUSHGATEWAY_URL is not set"],
        [["metrics", "delete", "--account", "a b"], { PUSHGATEWAY_URL: gateway.url }, '--account "a b" must be'],
        [["metrics", "delete", "--command", "status"], { PUSHGATEWAY_URL: gateway.url }, '--command must be run or snapshot, got "status"'],
        [["metrics", "purge"], { PUSHGATEWAY_URL: gateway.url }, 'expected the action `delete`, got "purge"'],
        [["metrics", "delete"], { PUSHGATEWAY_URL: "ftp://gateway" }, "PUSHGATEWAY_URL must be an http(s) URL"],
      ];
      for (const [args, extra, message] of cases) {
        const result = await runCli(args, extra);
        expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 2, stderr: expect.stringContaining(message) });
      }
      expect(gateway.received.length).toBe(requests);
    }, 60_000);

    test("a Pushgateway that refuses or cannot be reached: exit 1 with PUSHGATEWAY_FAILED", async () => {
      gateway.failWith = 500;
      try {
        const refused = await runCli(["metrics", "delete", "--account", "acct"], { PUSHGATEWAY_URL: gateway.url });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain("[PUSHGATEWAY_FAILED]: could not delete the run metrics of account acct");
        expect(refused.stderr).toContain("status 500");
      } finally {
        gateway.failWith = undefined;
      }
      const unreachable = await runCli(["metrics", "delete", "--account", "acct"], { PUSHGATEWAY_URL: "http://127.0.0.1:9" });
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toContain("ECONNREFUSED");
    }, 60_000);
  });
});
