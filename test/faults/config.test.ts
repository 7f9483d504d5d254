// Scenario 8: bad configuration of every variable stops `run` with exit code 2 and a message naming
// the variable (never echoing a secret), before anything is touched: no sync_runs row, no API request.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import type { CliResult } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { seededSimulator } from "../helpers/sync.js";
import { cli, guardCliOutput, registerSecret, testToken } from "./support.js";

guardCliOutput();

const dbSecret = "s3cr3t-db-pass-9051";
registerSecret(dbSecret);

/** [variable, bad value, what the message must also say]; secrets are checked by cli(). */
const cases: [string, string, RegExp][] = [
  ["GENERECT_API_TOKEN", "", /GENERECT_API_TOKEN is not set/],
  ["GENERECT_API_TOKEN", `Token ${testToken}`, /GENERECT_API_TOKEN contains whitespace/],
  ["GENERECT_API_TOKEN", `${testToken}\u00e9`, /GENERECT_API_TOKEN contains characters that cannot go in an HTTP header/],
  ["GENERECT_API_TOKEN", `${testToken}\u007f`, /GENERECT_API_TOKEN contains characters that cannot go in an HTTP header/],
  ["GENERECT_API_TOKEN", `${testToken}\u0001x`, /GENERECT_API_TOKEN contains characters that cannot go in an HTTP header/],
  ["GENERECT_API_URL", "api.generect.com", /GENERECT_API_URL="api\.generect\.com" is not a URL/],
  ["GENERECT_API_URL", "ftp://api.generect.com", /GENERECT_API_URL must be an http\(s\) URL/],
  ["GENERECT_API_URL", `https://user:${dbSecret}@api.generect.com`, /GENERECT_API_URL must not carry credentials/],
  ["DATABASE_URL", `postgres//user:${dbSecret}@host/db`, /DATABASE_URL is not a URL/],
  [
    "DATABASE_URL",
    `mysql://root:${dbSecret}@db/x`,
    /DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, got mysql:\/\/root:\*\*\*@db\/x/,
  ],
  ["SYNC_ACCOUNT", "acme corp", /SYNC_ACCOUNT="acme corp" must be 1-64 letters, digits/],
  ["SYNC_ACCOUNT", "a".repeat(65), /SYNC_ACCOUNT=.* must be 1-64/],
  ["SYNC_ACCOUNT", "acct;DROP TABLE transactions", /SYNC_ACCOUNT=.* must be 1-64/],
  ["SYNC_START", "last tuesday", /SYNC_START="last tuesday" is not a date/],
  ["SYNC_START", "2025-02-30", /SYNC_START="2025-02-30" is not a date/],
  ["SYNC_LOOKBACK", "1 day", /SYNC_LOOKBACK="1 day" is not a duration/],
  ["SYNC_LOOKBACK", "-24h", /SYNC_LOOKBACK="-24h" is not a duration/],
  ["SYNC_WINDOW", "7x", /SYNC_WINDOW="7x" is not a duration/],
  ["SYNC_WINDOW", "0d", /SYNC_WINDOW="0d" must be longer than zero/],
  ["SYNC_WINDOW_ROWS", "-5", /SYNC_WINDOW_ROWS="-5" must be a whole number from 0 to 25000/],
  ["SYNC_CONCURRENCY", "0", /SYNC_CONCURRENCY="0" must be a whole number from 1 to 64/],
  ["SYNC_CONCURRENCY", "65", /SYNC_CONCURRENCY="65" must be a whole number from 1 to 64/],
  ["SYNC_CONCURRENCY", "2.5", /SYNC_CONCURRENCY="2\.5" must be a whole number/],
  ["GENERECT_TIMEOUT", "fast", /GENERECT_TIMEOUT="fast" is not a duration/],
  ["GENERECT_TIMEOUT", "0s", /GENERECT_TIMEOUT="0s" must be longer than zero/],
  ["GENERECT_RETRIES", "-1", /GENERECT_RETRIES="-1" must be a whole number from 0 to 100/],
  ["GENERECT_RETRIES", "101", /GENERECT_RETRIES="101" must be a whole number from 0 to 100/],
  ["GENERECT_RETRIES", "many", /GENERECT_RETRIES="many" must be a whole number/],
  ["GENERECT_MAX_RESPONSE_BYTES", "16MB", /GENERECT_MAX_RESPONSE_BYTES="16MB" must be a whole number from 65536 to 1073741824/],
  ["GENERECT_MAX_RESPONSE_BYTES", "1000", /GENERECT_MAX_RESPONSE_BYTES="1000" must be a whole number from 65536/],
];

describe("bad configuration", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;
  const results = new Map<number, CliResult>();

  beforeAll(async () => {
    db = await createMigratedDatabase("faults-config");
    sim = await seededSimulator(801, 100, 10);
    env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
    // The children start four at a time (each is a Node process with a TypeScript loader).
    const queue = cases.map((c, i) => [c, i] as const);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [[name, value], i] = next;
          results.set(i, await cli(["run"], { ...env, [name]: value }).done);
        }
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  // Titles show the values with the secrets masked (Jest prints them).
  const mask = (value: string) => value.split(testToken).join("<token>").split(dbSecret).join("<password>");
  test.each(cases.map(([name, value, message], i) => [name, mask(value), value, message, i] as const))(
    "%s=%j: exit 2, the message names it",
    (name, _shown, value, message, i) => {
      const result = results.get(i)!;
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(name);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/^generect-sync run: error \[CONFIG_INVALID\]: /);
      expect(result.stdout).toBe("");
      if (name === "GENERECT_API_TOKEN" && value) expect(result.stderr).not.toContain(value);
    },
  );

  test("nothing was touched: no sync_runs row, no transaction, no API request", async () => {
    expect(results.size).toBe(cases.length);
    expect(await query(db.url, "SELECT id FROM sync_runs")).toEqual([]);
    expect(await query(db.url, "SELECT id FROM transactions")).toEqual([]);
    expect(sim.stats.requests).toBe(0);
  });

  test("the same environment, corrected, runs (the harness itself is sound)", async () => {
    const result = await cli(["run"], env).done;
    expect(result.code).toBe(0);
    expect(sim.stats.requests).toBeGreaterThan(0);
  });
});
