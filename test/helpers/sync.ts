// Builds a sync against a simulator and a test database, the way the CLI does, minus the process.
import { Writable } from "node:stream";
import { afterEach } from "@jest/globals";
import pg from "pg";
import { type Config, defaults } from "../../src/config/index.js";
import { runSync, type SyncOptions, type SyncSummary } from "../../src/job/run.js";
import { createLogger } from "../../src/log.js";
import { compareWithLedger, describeDifference, type LedgerDifference } from "../../src/proofs/against-ledger.js";
import { Ledger, type SimulatorHandle, type SimulatorOptions, seedTransactions, startSimulator } from "../../src/simulator/index.js";
import { query, type TestDatabase } from "./database.js";
import { dayMs } from "./time.js";

export const testToken = "tok_test_3f9c2b7a51e84d06";

export function startTestSimulator(options: Partial<SimulatorOptions> = {}): Promise<SimulatorHandle> {
  return startSimulator({ token: testToken, rows: 0, ...options });
}

/**
 * A simulator over a seeded ledger of `rows` rows spread over `days` days, ending a minute ago (or at
 * `to`); `seed` also seeds the ids of rows a test adds later. The one way tests build a seeded ledger.
 */
export function seededSimulator(
  seed: number,
  rows: number,
  days: number,
  { to = new Date(Date.now() - 60_000), ...options }: Partial<SimulatorOptions> & { to?: Date } = {},
): Promise<SimulatorHandle> {
  const ledger = new Ledger(seedTransactions({ seed, rows, from: new Date(to.getTime() - days * dayMs), to }), { seed });
  return startTestSimulator({ ledger, ...options });
}

/**
 * The job's defaults, but fixed SYNC_WINDOW spans: most scenarios are built on a window structure
 * (a fault armed from the N-th window, a failure between two windows). Row-sized windows, the
 * job's default, have their own tests (test/sync/adaptive.test.ts) and run in the CLI scenarios.
 */
export function testConfig(sim: SimulatorHandle, overrides: Partial<Config> = {}): Config {
  return {
    ...defaults,
    windowRows: 0,
    apiToken: testToken,
    apiUrl: sim.url,
    databaseUrl: undefined,
    account: "acct",
    start: undefined,
    home: undefined,
    pushgatewayUrl: undefined,
    workerHttpPort: undefined,
    ...overrides,
  };
}

/** Everything the sync logged, as text, so tests can look for secrets in it. */
export class LogCapture {
  lines: string[] = [];
  stream = new Writable({
    write: (chunk, _enc, done) => {
      this.lines.push(String(chunk));
      done();
    },
  });
  logger = createLogger({ secrets: [testToken], pretty: false, destination: this.stream, level: "debug" });
  get text() {
    return this.lines.join("");
  }
}

/** The options a test sync runs with: the simulator's URL and token, fast client retries, no snapshots. */
export function testSyncOptions(
  databaseUrl: string,
  sim: SimulatorHandle,
  log: LogCapture["logger"],
  overrides: Partial<Config> = {},
  options: Partial<SyncOptions> = {},
): SyncOptions {
  return {
    config: testConfig(sim, overrides),
    databaseUrl,
    log,
    clientOptions: { minRetryDelayMs: 5, maxRetryDelayMs: 50 },
    snapshots: false,
    ...options,
  };
}

export async function syncOnce(
  databaseUrl: string,
  sim: SimulatorHandle,
  overrides: Partial<Config> = {},
  options: Partial<SyncOptions> = {},
): Promise<SyncSummary> {
  return runSync(testSyncOptions(databaseUrl, sim, new LogCapture().logger, overrides, options));
}

/** compareWithLedger on a connection of the test's own, opened for it. */
export async function compareDatabaseWithLedger(
  databaseUrl: string,
  account: string,
  ledger: Parameters<typeof compareWithLedger>[2],
): Promise<LedgerDifference> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await compareWithLedger(client, account, ledger);
  } finally {
    await client.end();
  }
}

/** Fails with a readable account of what differs when the database is not the simulator's ledger. */
export async function expectDatabaseEqualsLedger(databaseUrl: string, sim: SimulatorHandle, account = "acct"): Promise<void> {
  const diff = await compareDatabaseWithLedger(databaseUrl, account, sim.ledger);
  if (diff.missing.length || diff.unexpected.length || diff.different.size) {
    throw new Error(`database differs from the simulator: ${describeDifference(diff)}`);
  }
  if (diff.compared + diff.rejected.length !== sim.ledger.size) {
    throw new Error(`compared ${diff.compared} rows (and ${diff.rejected.length} served as no transaction), ledger has ${sim.ledger.size}`);
  }
}

/** A sync_runs row as the tests read it (id as text: a bigint). */
export interface RunRow {
  id: string;
  status: string;
  command: string;
  windows_walked: number;
  pages: number;
  rows_seen: number;
  rows_inserted: number;
  rows_updated: number;
  rows_unchanged: number;
  rows_deleted: number;
  rows_rejected: number;
  count_mismatches: number;
  api_requests: number;
  retries: number;
  error_code: string | null;
  error_message: string | null;
  started_at: Date;
  finished_at: Date | null;
  pid: number | null;
}

/** Every sync_runs row, oldest first: the one query the tests read runs with. */
export function syncRuns(databaseUrl: string): Promise<RunRow[]> {
  return query<RunRow>(databaseUrl, "SELECT r.*, r.id::text AS id FROM sync_runs r ORDER BY r.id");
}

export async function watermark(databaseUrl: string, account = "acct"): Promise<string | undefined> {
  const rows = await query<{ w: string }>(
    databaseUrl,
    `SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS w FROM sync_state WHERE account = $1`,
    [account],
  );
  return rows[0]?.w;
}

/** What perTest() closes after each test. */
export interface PerTest {
  /** Keeps `db` to drop after the test; returns it. */
  database(db: TestDatabase): TestDatabase;
  /** Keeps `sim` to close after the test; returns it. */
  simulator(sim: SimulatorHandle): SimulatorHandle;
}

/**
 * The database and simulator a test makes, closed and dropped after each test however it ends:
 * `const made = perTest();` in the file or its describe, then in a test
 * `const db = made.database(await createMigratedDatabase(...))`.
 */
export function perTest(): PerTest {
  let database: TestDatabase | undefined;
  let simulator: SimulatorHandle | undefined;
  afterEach(async () => {
    await simulator?.close();
    await database?.drop();
    simulator = undefined;
    database = undefined;
  });
  return {
    database(db) {
      database = db;
      return db;
    },
    simulator(sim) {
      simulator = sim;
      return sim;
    },
  };
}
