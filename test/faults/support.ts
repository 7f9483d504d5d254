// Shared by the test/faults scenarios: a sync that keeps its logs, the window tracker that arms a
// fault from the N-th window on, invariants over the database, and the only way these tests start
// the CLI (`cli()`), which checks every child's output for secrets. Seeded simulators and the
// sync_runs reader are in test/helpers/sync.ts, durations in test/helpers/time.ts.
import { afterAll, expect } from "@jest/globals";
import type { Config } from "../../src/config/index.js";
import { runSync, type SyncOptions, type SyncSummary } from "../../src/job/run.js";
import { type InterceptResponse, type SimulatorHandle, TRANSACTIONS_PATH } from "../../src/simulator/index.js";
import { type CliProcess, type CliResult, spawnCli } from "../helpers/cli.js";
import { query } from "../helpers/database.js";
import { LogCapture, type RunRow, testSyncOptions, testToken } from "../helpers/sync.js";

/** Long soak variants run only with GENERECT_SOAK=1 (see the README's Reliability section). */
export const soak = process.env.GENERECT_SOAK === "1";

// ---------------------------------------------------------------------------------------------
// CLI children: every byte they print is kept and checked for secrets.

const secrets = new Set<string>([testToken]);
const transcripts: { args: string[]; output: string }[] = [];

/** Another value that must never appear in CLI output (e.g. a database password). */
export function registerSecret(secret: string): void {
  secrets.add(secret);
}

function leaks(output: string): string[] {
  return [...secrets].filter((secret) => output.includes(secret));
}

/**
 * The CLI's environment for the test account on `sim`, in fixed windows of `window`
 * (SYNC_WINDOW_ROWS=0): the scenarios arm their faults by window, so they count on the windows'
 * spans, which a first run would otherwise size from the rows it found.
 */
export function fixedWindowsEnv(
  databaseUrl: string,
  sim: Pick<SimulatorHandle, "url">,
  window: string,
  /** More variables; an undefined one is left unset. */
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    GENERECT_API_URL: sim.url,
    GENERECT_API_TOKEN: testToken,
    SYNC_ACCOUNT: "acct",
    SYNC_WINDOW: window,
    SYNC_WINDOW_ROWS: "0",
  };
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/**
 * spawnCli, recorded: when the child ends, its stdout and stderr are checked for every registered
 * secret (the test token always), and `done` rejects if one is found. All transcripts are checked
 * again after the file's tests (see guardCliOutput).
 */
export function cli(args: string[], env: Record<string, string | undefined>): CliProcess {
  const child = spawnCli(args, env);
  const done = child.done.then((result: CliResult) => {
    const output = result.stdout + result.stderr;
    transcripts.push({ args, output });
    const found = leaks(output);
    if (found.length) throw new Error(`generect-sync ${args.join(" ")} printed a secret (${found.length} of them) in:\n${output}`);
    return result;
  });
  return { ...child, done };
}

export function runCliChecked(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return cli(args, env).done;
}

/** Registers an afterAll that scans every CLI transcript of this test file for secrets. */
export function guardCliOutput(): void {
  afterAll(() => {
    const leaking = transcripts.filter((t) => leaks(t.output).length > 0);
    expect(leaking.map((t) => t.args.join(" "))).toEqual([]);
  });
}

/** How many CLI children this file ran (for the scan's own sanity check). */
export function cliTranscripts(): readonly { args: string[]; output: string }[] {
  return transcripts;
}

// ---------------------------------------------------------------------------------------------
// In-process syncs with their logs.

export interface SyncOutcome {
  summary?: SyncSummary;
  error?: Error & { code?: string };
  log: string;
  ms: number;
}

/** A sync the way test/helpers syncOnce runs it (fast client retries, no snapshots), keeping the log and the error. */
export async function syncLogged(
  databaseUrl: string,
  sim: SimulatorHandle,
  overrides: Partial<Config> = {},
  options: Partial<SyncOptions> = {},
): Promise<SyncOutcome> {
  const capture = new LogCapture();
  const started = Date.now();
  try {
    const summary = await runSync(testSyncOptions(databaseUrl, sim, capture.logger, overrides, options));
    return { summary, log: capture.text, ms: Date.now() - started };
  } catch (error) {
    return { error: error as Error, log: capture.text, ms: Date.now() - started };
  }
}

// ---------------------------------------------------------------------------------------------
// Arming a fault from the N-th window of a run on.

export interface WindowWatch {
  /** created_at__gte of every window requested so far, in order (API format). */
  windows: string[];
  /** The window from which the fault is armed, once reached. */
  armed(): string | undefined;
}

/**
 * Tracks the windows the sync asks for (through faults.intercept) and calls `arm` when the
 * `armAt`-th distinct window is first requested, before that request is answered: windows before
 * it are served cleanly, it and everything after it meet the fault. `respond`, if given, answers
 * the transactions requests from then on instead of the simulator.
 */
export function armAtWindow(
  sim: SimulatorHandle,
  armAt: number,
  arm: () => void,
  respond?: () => InterceptResponse | "destroy",
): WindowWatch {
  const windows: string[] = [];
  sim.faults.intercept = ({ path, query }) => {
    const gte = query.get("created_at__gte");
    if (gte !== null && !windows.includes(gte)) {
      windows.push(gte);
      if (windows.length === armAt) arm();
    }
    if (respond && windows.length >= armAt && path === TRANSACTIONS_PATH) return respond();
    return undefined;
  };
  return { windows, armed: () => windows[armAt - 1] };
}

// ---------------------------------------------------------------------------------------------
// Invariants.

export async function countRows(databaseUrl: string, where = "TRUE", params: unknown[] = []): Promise<number> {
  const [row] = await query<{ n: string }>(databaseUrl, `SELECT count(*)::text AS n FROM transactions WHERE ${where}`, params);
  return Number(row!.n);
}

/**
 * transaction_versions is consistent with transactions, per (account, id): exactly one 'insert',
 * no two consecutive versions alike (same raw and both live or both deleted), every row has
 * versions, and each row's latest version is the row as held. The history underneath is a chain:
 * each superseded version is valid until the next one of its row begins, never backwards, and no
 * version's updated_at is older than the one before it.
 */
export async function expectVersionsConsistent(databaseUrl: string): Promise<void> {
  const inserts = await query(
    databaseUrl,
    `
    SELECT account, id::text, count(*) FILTER (WHERE change = 'insert')::int AS inserts
    FROM transaction_versions GROUP BY account, id HAVING count(*) FILTER (WHERE change = 'insert') <> 1`,
  );
  expect(inserts).toEqual([]);
  const repeated = await query(
    databaseUrl,
    `
    SELECT id::text, version_id::text FROM (
      SELECT id, version_id, raw, change, lag(raw) OVER w AS prev_raw, lag(change) OVER w AS prev_change
      FROM transaction_versions WINDOW w AS (PARTITION BY account, id ORDER BY version_id)
    ) v
    WHERE prev_raw IS NOT NULL AND raw = prev_raw AND (change = 'delete') = (prev_change = 'delete')`,
  );
  expect(repeated).toEqual([]);
  const orphans = await query(
    databaseUrl,
    `
    SELECT t.account, t.id::text FROM transactions t
    WHERE NOT EXISTS (SELECT 1 FROM transaction_versions v WHERE v.account = t.account AND v.id = t.id)
       OR (SELECT v.raw FROM transaction_versions v WHERE v.account = t.account AND v.id = t.id ORDER BY version_id DESC LIMIT 1) IS DISTINCT FROM t.raw
       OR ((SELECT v.change FROM transaction_versions v WHERE v.account = t.account AND v.id = t.id ORDER BY version_id DESC LIMIT 1) = 'delete') <> (t.deleted_at IS NOT NULL)`,
  );
  expect(orphans).toEqual([]);
  const broken = await query(
    databaseUrl,
    `
    SELECT account, id::text, version_id::text FROM (
      SELECT account, id, version_id, valid_from, valid_to, lead(valid_from) OVER w AS next_from
      FROM (SELECT account, id, version_id, valid_from, valid_to FROM transaction_history
            UNION ALL SELECT account, id, version_id, last_seen_at, NULL FROM transactions) v
      WINDOW w AS (PARTITION BY account, id ORDER BY version_id)
    ) c
    WHERE (valid_to IS NULL) <> (next_from IS NULL) OR valid_to <> next_from OR valid_to < valid_from`,
  );
  expect(broken).toEqual([]);
  // No version goes back in time: a row sent older than the one held is not written (stale.ts).
  const regressed = await query(
    databaseUrl,
    `
    SELECT account, id::text, version_id::text FROM (
      SELECT account, id, version_id, updated_at, lag(updated_at) OVER w AS prev_updated_at
      FROM transaction_versions WINDOW w AS (PARTITION BY account, id ORDER BY version_id)
    ) v
    WHERE updated_at < prev_updated_at`,
  );
  expect(regressed).toEqual([]);
}

/** A successful run's counters agree with what the database holds (one run from an empty database). */
export async function expectFirstRunTruthful(databaseUrl: string, run: RunRow, summary?: SyncSummary): Promise<void> {
  const held = await countRows(databaseUrl);
  expect(run).toMatchObject({ status: "succeeded", error_code: null, error_message: null, rows_inserted: held });
  expect(run.finished_at).not.toBeNull();
  expect(run.rows_seen).toBeGreaterThanOrEqual(held);
  if (summary) {
    expect(run).toMatchObject({
      windows_walked: summary.windows,
      pages: summary.pages,
      rows_seen: summary.rowsSeen,
      rows_inserted: summary.inserted,
      rows_updated: summary.updated,
      rows_unchanged: summary.unchanged,
      rows_deleted: summary.deleted,
      api_requests: summary.apiRequests,
      retries: summary.retries,
    });
  }
}

/** The watermark in the API's format, or undefined (the shared helper, under the name these tests use). */
export { watermark as watermarkOf } from "../helpers/sync.js";

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export { testToken };
