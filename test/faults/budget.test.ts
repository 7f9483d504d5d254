// Scenario 2: faults beyond the retry budget. From the third window of the run on, the simulator
// fails every time: the run fails with a clear error, commits nothing of the failed window (its
// rows absent, the watermark at its start), records the failure truthfully, and the next clean run
// converges.
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import type { InterceptResponse, SimulatorFaults, SimulatorHandle } from "../../src/simulator/index.js";
import type { Millis } from "../../src/time.js";
import { parseTimestamp } from "../../src/time.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { days, ms } from "../helpers/time.js";
import { armAtWindow, countRows, expectVersionsConsistent, syncLogged, testToken, watermarkOf } from "./support.js";

interface Case {
  name: string;
  faults?: Partial<SimulatorFaults>;
  respond?: () => InterceptResponse | "destroy";
  code: string;
  message: RegExp;
  /** The client retried (GENERECT_RETRIES = 2 per request) before giving up. */
  retried: boolean;
  config?: { requestTimeoutMs?: Millis };
}

const cases: Case[] = [
  {
    name: "503 on every request",
    faults: { failRate: 1, failStatuses: [503] },
    code: "API_UNAVAILABLE",
    message: /API answered 503 for GET \/api\/auth\/transactions\/\?created_at__gte=.*: Service temporarily unavailable/,
    retried: true,
  },
  {
    name: "502 HTML pages on every request",
    faults: { failRate: 1, failStatuses: [502] },
    code: "API_UNAVAILABLE",
    message: /API answered 502 for GET .*: <html>/,
    retried: true,
  },
  {
    name: "429 on every request, no Retry-After",
    faults: { throttleRate: 1 },
    code: "API_THROTTLED",
    message: /API kept throttling GET .* \(429 Request was throttled\.\)/,
    retried: true,
  },
  {
    name: "429 on every request, Retry-After: 0",
    faults: { throttleRate: 1, retryAfterSeconds: 0 },
    code: "API_THROTTLED",
    message: /API kept throttling/,
    retried: true,
  },
  {
    name: "every request hangs past the timeout",
    faults: { hangRate: 1 },
    code: "API_TIMEOUT",
    message: /API request GET .* timed out after 300 ms/,
    retried: true,
    config: { requestTimeoutMs: ms(300) },
  },
  {
    name: "every connection reset mid-body",
    faults: { resetRate: 1 },
    code: "API_UNREACHABLE",
    message:
      /could not reach the API at 127\.0\.0\.1:\d+ for GET .*: (ECONNRESET|ERR_HTTP_CONTENT_LENGTH_MISMATCH|ERR_STREAM_PREMATURE_CLOSE)/,
    retried: true,
  },
  {
    name: "every body truncated",
    faults: { truncateRate: 1 },
    code: "API_RESPONSE_INVALID",
    message: /the body is not valid JSON/,
    retried: true,
  },
  {
    name: "every body an HTML page with status 200",
    faults: { invalidJsonRate: 1 },
    code: "API_RESPONSE_INVALID",
    message: /the body is not valid JSON .*; it begins "<html>/,
    retried: true,
  },
  {
    name: "the filter ignored (rows outside the window)",
    faults: { ignoreFiltersRate: 1 },
    code: "API_FILTER_IGNORED",
    message: /outside the requested window .*the server ignored the created_at filter; nothing was committed for this window/,
    retried: false,
  },
  {
    name: "rows inserted into the window on every page",
    faults: { churnRate: 1, churnKinds: ["insert"] },
    code: "WINDOW_UNSETTLED",
    message: /did not settle after 3 walks: the API counted \d+ then \d+ rows/,
    retried: false,
  },
  {
    name: "connections cut before any answer",
    respond: () => "destroy",
    code: "API_UNREACHABLE",
    message: /could not reach the API at 127\.0\.0\.1:\d+ for GET .*: (ECONNRESET|socket hang up)/,
    retried: true,
  },
];

describe("faults beyond the retry budget", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-budget");
    // 900 rows over 30 days: six 5-day windows.
    sim = await seededSimulator(201, 900, 30, { faults: { seed: 3 } });
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each(cases)(
    "$name: fails clearly, commits nothing of the failed window, and the next run converges",
    async ({ faults, respond, code, message, retried, config }) => {
      const watch = armAtWindow(sim, 3, () => Object.assign(sim.faults, faults ?? {}), respond);
      const failed = await syncLogged(db.url, sim, { windowMs: days(5), retries: 2, ...config });
      expect(failed.error).toBeDefined();
      expect(failed.error!.code).toBe(code);
      expect(failed.error!.message).toMatch(message);
      expect(failed.log).not.toContain(testToken);

      // Two windows committed; the third (where the fault began) left nothing behind.
      const armed = watch.armed()!;
      expect(armed).toBeDefined();
      expect(await watermarkOf(db.url)).toBe(armed);
      const from = new Date(parseTimestamp(armed)! / 1000);
      expect(await countRows(db.url, "created_at >= $1", [from])).toBe(0);
      const committed = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) < from.getTime()).length;
      expect(await countRows(db.url)).toBe(committed);

      const [run] = await syncRuns(db.url);
      expect(run).toMatchObject({ status: "failed", error_code: code, windows_walked: 2, rows_inserted: committed });
      expect(run!.error_message).toMatch(message);
      expect(run!.finished_at).not.toBeNull();
      if (retried) expect(run!.retries).toBeGreaterThanOrEqual(2);
      else expect(run!.retries).toBe(0);
      expect(JSON.stringify(run)).not.toContain(testToken);

      sim.resetFaults();
      const clean = await syncLogged(db.url, sim, { windowMs: days(5) });
      if (clean.error) throw clean.error;
      await expectDatabaseEqualsLedger(db.url, sim);
      await expectVersionsConsistent(db.url);
      const [, second] = await syncRuns(db.url);
      expect(second).toMatchObject({ status: "succeeded", rows_inserted: sim.ledger.size - committed, error_code: null });
    },
  );
});
