// `generect-sync simulate` fault flags: validated (exit 2 naming the flag), documented in --help,
// and effective: a real `run` against a misbehaving simulator succeeds through its retries.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { syncRuns } from "../helpers/sync.js";
import { cli, guardCliOutput, testToken, waitFor } from "./support.js";

guardCliOutput();

describe("generect-sync simulate with faults", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase("faults-simulate-cli");
  });
  afterAll(async () => {
    await db?.drop();
  });

  test("--help documents every fault flag", async () => {
    const help = await cli(["simulate", "--help"], {}).done;
    expect(help.code).toBe(0);
    for (const flag of [
      "latency-ms",
      "jitter-ms",
      "throttle-rate",
      "throttle-burst",
      "retry-after",
      "fail-rate",
      "fail-status",
      "hang-rate",
      "hang-ms",
      "reset-rate",
      "truncate-rate",
      "invalid-json-rate",
      "bad-row-rate",
      "ignore-filters-rate",
      "count-drift-rate",
      "churn-rate",
      "arrival-rate",
      "clock-offset",
      "fault-seed",
      "sunset",
    ]) {
      expect(help.stdout).toContain(`--${flag} <`);
    }
  });

  test.each([
    [["--fail-rate", "1.5"], /--fail-rate must be a probability from 0 to 1, got "1\.5"/],
    [["--throttle-rate", "often"], /--throttle-rate must be a probability from 0 to 1/],
    [["--retry-after=-1"], /--retry-after must be a number of seconds >= 0/],
    [["--latency-ms", "2.5"], /--latency-ms must be a whole number >= 0/],
    [["--fail-status", "404"], /--fail-status must be comma-separated 5xx statuses/],
    [["--clock-offset", "soon"], /--clock-offset must be a duration such as 5m, -90s or 1h30m/],
    [["--fault-seed", "x"], /--fault-seed must be an integer/],
    [["--port", "70000"], /--port must be a number from 0 to 65535/],
    [["--hang-rates", "0.1"], /simulate: Unknown option '--hang-rates'/],
    [["--sunset", "next July"], /--sunset must be a date such as 2027-07-01, got "next July"/],
    [["--sunset", "2027-02-31"], /--sunset must be a date such as 2027-07-01, got "2027-02-31"/],
  ])("%j: exit 2 naming the flag", async (args, message) => {
    const result = await cli(["simulate", "--port", "0", ...args], {}).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test("a run against `simulate --latency-ms 5 --jitter-ms 10 --fail-rate 0.1 --throttle-rate 0.1 --retry-after 0 ...` succeeds through its retries", async () => {
    const sim = cli(
      [
        "simulate",
        "--port",
        "0",
        "--rows",
        "800",
        "--years",
        "0.2",
        "--fault-seed",
        "11",
        "--latency-ms",
        "5",
        "--jitter-ms",
        "10",
        "--fail-rate",
        "0.1",
        "--fail-status",
        "500,503",
        "--throttle-rate",
        "0.1",
        "--retry-after",
        "0",
        "--reset-rate",
        "0.05",
        "--truncate-rate",
        "0.05",
        "--clock-offset=-90s",
      ],
      { GENERECT_API_TOKEN: testToken },
    );
    try {
      await waitFor(() => /faults: /.test(sim.output()), 20_000, "the simulator to listen");
      const out = sim.output();
      expect(out).toContain("token: the one you gave");
      expect(out).toContain(
        "faults: latency-ms 5, jitter-ms 10, throttle-rate 0.1, retry-after 0, fail-rate 0.1, fail-status 500,503, reset-rate 0.05, truncate-rate 0.05, clock-offset -90s, fault-seed 11",
      );
      const url = /GENERECT_API_URL=(\S+)/.exec(out)![1]!;
      const run = await cli(["run"], {
        DATABASE_URL: db.url,
        GENERECT_API_URL: url,
        GENERECT_API_TOKEN: testToken,
        SYNC_ACCOUNT: "acct",
        SYNC_WINDOW: "10d",
      }).done;
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/run #\d+ succeeded: .* 800 rows seen \(800 inserted/);
      const [row] = await syncRuns(db.url);
      expect(row!.retries).toBeGreaterThan(0);
    } finally {
      sim.child.kill("SIGTERM");
    }
    const ended = await sim.done;
    expect(ended.code).toBe(0);
    expect(ended.stdout).toMatch(/served \d+ requests; injected: latency \d+, .+/);
  }, 60_000);

  test("`simulate --sunset 2027-07-01`: a run warns once that the API is deprecated, naming the sunset, and succeeds", async () => {
    const sim = cli(["simulate", "--port", "0", "--rows", "500", "--years", "0.2", "--sunset", "2027-07-01"], {
      GENERECT_API_TOKEN: testToken,
    });
    try {
      await waitFor(() => /faults: /.test(sim.output()), 20_000, "the simulator to listen");
      expect(sim.output()).toContain("faults: sunset Thu, 01 Jul 2027 00:00:00 GMT");
      const url = /GENERECT_API_URL=(\S+)/.exec(sim.output())![1]!;
      const run = await cli(["run"], { DATABASE_URL: db.url, GENERECT_API_URL: url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "sunset" })
        .done;
      expect(run.code).toBe(0);
      const warnings = run.stderr.split("\n").filter((line) => line.includes("deprecated"));
      expect(warnings).toHaveLength(1);
      // The first marked answer is named: users/me, which each run reads first for its balance checkpoint.
      expect(warnings[0]).toContain("the API marks /api/auth/users/me/ as deprecated (sunset Thu, 01 Jul 2027 00:00:00 GMT)");
    } finally {
      sim.child.kill("SIGTERM");
    }
    const ended = await sim.done;
    expect(ended.code).toBe(0);
    expect(ended.stdout).toMatch(/injected: deprecation \d+/);
  }, 60_000);
});
