// Scenario 9: bad API payloads. Odd rows the API keeps sending (ledger.setOdd: its own data is odd)
// and one-offs (a proxy mangling one answer) never stop the ledger: a row that still describes a
// transaction is stored (null where the API sent nothing, text sanitised, raw as sent), a row that
// cannot be one is quarantined with its text and the window commits. Bodies and envelopes that are
// not a page still fail the window, naming what was wrong, and the token appears in no output.
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import {
  BAD_ROW_KINDS,
  type BadRowKind,
  type InterceptResponse,
  REJECTED_ROW_KINDS,
  type SimTransaction,
  type SimulatorHandle,
} from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/time.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { days } from "../helpers/time.js";
import {
  armAtWindow,
  cli,
  countRows,
  expectVersionsConsistent,
  fixedWindowsEnv,
  guardCliOutput,
  syncLogged,
  testToken,
  watermarkOf,
} from "./support.js";

guardCliOutput();

/** The reason code each rejected kind must be quarantined under. */
const reasonOf: Partial<Record<BadRowKind, string>> = {
  "amount-as-string": "BAD_AMOUNT",
  "missing-id": "MISSING_ID",
  "bad-uuid": "BAD_ID",
  "missing-created-at": "MISSING_CREATED_AT",
  "bad-datetime": "BAD_CREATED_AT",
};
const accepted = BAD_ROW_KINDS.filter((kind) => !REJECTED_ROW_KINDS.includes(kind));
const readableId = (kind: BadRowKind) => kind !== "missing-id" && kind !== "bad-uuid";

interface Quarantined {
  transaction_id: string | null;
  reason_code: string;
  reason: string;
  raw: string;
  window_from: string;
  window_to: string;
  page_offset: number;
  position: number;
  run_id: string;
  last_run_id: string;
  times_received: number;
  resolved_at: Date | null;
  resolution: string | null;
}

function quarantined(url: string): Promise<Quarantined[]> {
  return query<Quarantined>(
    url,
    `
    SELECT transaction_id::text, reason_code, reason, raw, page_offset, position, run_id::text, last_run_id::text, times_received,
           resolved_at, resolution,
           to_char(window_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS window_from,
           to_char(window_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS window_to
    FROM quarantined_rows WHERE account = 'acct' ORDER BY id`,
  );
}

/** One ledger row per kind, spread over the ledger (every 60th row), so kinds meet different pages and windows. */
function makeOdd(sim: SimulatorHandle, kinds: readonly BadRowKind[], start = 5): Map<BadRowKind, SimTransaction> {
  const all = sim.ledger.all();
  const picked = new Map<BadRowKind, SimTransaction>();
  kinds.forEach((kind, i) => {
    const row = all[start + i * 60]!;
    sim.ledger.setOdd(row.id, kind);
    picked.set(kind, row);
  });
  return picked;
}

/**
 * Each quarantine entry against the simulator's truth: the exact text served, the reason, the id,
 * and where it was received (its window, page offset and position, recomputed from the ledger's
 * order with the API's page size of 100).
 */
function expectQuarantineMatches(entries: Quarantined[], sim: SimulatorHandle, odd: Map<BadRowKind, SimTransaction>, runId: string): void {
  const rejected = [...odd].filter(([kind]) => REJECTED_ROW_KINDS.includes(kind));
  expect(entries).toHaveLength(rejected.length);
  for (const [kind, row] of rejected) {
    const entry = entries.find((e) => e.raw === sim.ledger.served(row));
    expect(entry).toBeDefined();
    expect(entry).toMatchObject({ reason_code: reasonOf[kind], transaction_id: readableId(kind) ? row.id : null, run_id: runId });
    const field = kind === "amount-as-string" ? "amount" : kind.includes("created-at") || kind === "bad-datetime" ? "created_at" : "id";
    expect(entry!.reason).toContain(`has an invalid field "${field}"`);
    expect(entry!.window_from <= row.created_at && row.created_at < entry!.window_to).toBe(true);
    const inWindow = sim.ledger.all().filter((r) => r.created_at >= entry!.window_from && r.created_at < entry!.window_to);
    const index = inWindow.findIndex((r) => r.id === row.id);
    expect({ offset: entry!.page_offset, position: entry!.position }).toEqual({
      offset: Math.floor(index / 100) * 100,
      position: (index % 100) + 1,
    });
  }
}

describe("odd rows never stop the ledger", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-payloads");
    sim = await seededSimulator(901, 900, 30);
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("every kind, sent for good: accepted rows stored as sent, the others quarantined, every window committed; the API's correction converges", async () => {
    const odd = makeOdd(sim, BAD_ROW_KINDS);
    const first = await syncLogged(db.url, sim, { windowMs: days(5) });
    if (first.error) throw first.error;
    const [run] = await syncRuns(db.url);
    const rejectedCount = REJECTED_ROW_KINDS.length;
    expect(run).toMatchObject({
      status: "succeeded",
      rows_rejected: rejectedCount,
      rows_inserted: sim.ledger.size - rejectedCount,
      rows_deleted: 0,
    });
    expect(run!.rows_seen).toBe(sim.ledger.size - rejectedCount);
    expect(first.summary!.rejected).toBe(rejectedCount);
    // Every row that still describes a transaction, field by field against the text served; none of the others.
    await expectDatabaseEqualsLedger(db.url, sim);
    for (const kind of REJECTED_ROW_KINDS) expect(await countRows(db.url, "id = $1", [odd.get(kind)!.id])).toBe(0);
    for (const kind of accepted) {
      const [held] = await query<{ raw: string }>(db.url, "SELECT raw FROM transactions WHERE id = $1", [odd.get(kind)!.id]);
      expect(held!.raw).toBe(sim.ledger.served(odd.get(kind)!));
    }
    expectQuarantineMatches(await quarantined(db.url), sim, odd, run!.id);
    expect(first.log).toMatch(/"level":40.*quarantined instead of stored \(table quarantined_rows\)/);
    expect(first.log).not.toContain(testToken);
    await expectVersionsConsistent(db.url);

    // The API corrects every row: the next run re-reads them (lookback over the whole ledger).
    const oddTexts = new Map([...odd].map(([kind, row]) => [kind, sim.ledger.served(row)]));
    for (const row of odd.values()) sim.ledger.setOdd(row.id);
    const second = await syncLogged(db.url, sim, { windowMs: days(5), lookbackMs: days(31) });
    if (second.error) throw second.error;
    expect(second.summary).toMatchObject({ rejected: 0, inserted: rejectedCount, updated: accepted.length, deleted: 0 });
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    const after = await quarantined(db.url);
    const [, secondRun] = await syncRuns(db.url);
    expect(secondRun!.rows_rejected).toBe(0);
    // Entries with a readable id are resolved by the valid version; the others by their instant's
    // window read with every row's id readable (no id could link them to their row).
    for (const kind of REJECTED_ROW_KINDS) {
      const entry = after.find((e) => e.raw === oddTexts.get(kind));
      expect([kind, entry!.resolution]).toEqual([
        kind,
        readableId(kind)
          ? `a valid version was received by run ${secondRun!.id}`
          : `every row listed where it was received came readable in run ${secondRun!.id}`,
      ]);
      expect(entry!.resolved_at).not.toBeNull();
    }
  });

  test("a stored row later sent unreadable stays as stored (not deleted), quarantined once however often it is sent; a new number literal is a new version", async () => {
    const clean = await syncLogged(db.url, sim, { windowMs: days(5) });
    if (clean.error) throw clean.error;
    const kinds: BadRowKind[] = [
      "amount-as-string",
      "bad-datetime",
      "missing-id",
      "reformatted-amount",
      "nul-in-description",
      "lone-surrogate-in-description",
    ];
    const servedBefore = new Map(sim.ledger.all().map((row) => [row.id, sim.ledger.served(row)]));
    const odd = makeOdd(sim, kinds, 30);
    // Deleted upstream, beside the row without a readable id (position 150, next to it at 151):
    // that row could be any held one, so this deletion waits until it reads again.
    const gone = sim.ledger.all()[31 + 2 * 60]!;
    expect(sim.ledger.oddKind(sim.ledger.all()[30 + 2 * 60]!.id)).toBe("missing-id");
    sim.ledger.remove(gone.id);
    const again = { windowMs: days(5), lookbackMs: days(31) };
    const second = await syncLogged(db.url, sim, again);
    if (second.error) throw second.error;
    // Rejected rows were listed: their stored versions stand, none is marked deleted.
    expect(second.summary).toMatchObject({ rejected: 3, deleted: 0, inserted: 0, updated: 3 });
    for (const kind of ["amount-as-string", "bad-datetime", "missing-id"] as const) {
      const id = odd.get(kind)!.id;
      const [held] = await query<{ raw: string; deleted_at: Date | null }>(
        db.url,
        "SELECT raw, deleted_at FROM transactions WHERE id = $1",
        [id],
      );
      expect(held).toEqual({ raw: servedBefore.get(id), deleted_at: null });
    }
    // -10.1 written -10.100000 is the same number and a new text: an update version with the new text.
    const reformatted = odd.get("reformatted-amount")!;
    const versions = await query<{ change: string; raw: string; amount: string }>(
      db.url,
      "SELECT change, raw, amount::text FROM transaction_versions WHERE id = $1 ORDER BY version_id",
      [reformatted.id],
    );
    expect(versions.map((v) => v.change)).toEqual(["insert", "update"]);
    expect(versions[1]!.raw).toBe(sim.ledger.served(reformatted));
    expect(versions[1]!.raw).not.toBe(versions[0]!.raw);
    await expectVersionsConsistent(db.url);
    const [, secondRun] = await syncRuns(db.url);
    expectQuarantineMatches(await quarantined(db.url), sim, odd, secondRun!.id);

    expect(await countRows(db.url, "id = $1 AND deleted_at IS NULL", [gone.id])).toBe(1);

    // Sent again unchanged: no new version, the same quarantine entries received once more.
    const third = await syncLogged(db.url, sim, again);
    if (third.error) throw third.error;
    expect(third.summary).toMatchObject({ rejected: 3, deleted: 0, inserted: 0, updated: 0 });
    const [, , thirdRun] = await syncRuns(db.url);
    const entries = await quarantined(db.url);
    expect(entries).toHaveLength(3);
    for (const entry of entries)
      expect(entry).toMatchObject({ run_id: secondRun!.id, last_run_id: thirdRun!.id, times_received: 2, resolved_at: null });

    // The API sends the row readable again: the deletion is proven and marked.
    sim.ledger.setOdd(odd.get("missing-id")!.id);
    const fourth = await syncLogged(db.url, sim, again);
    if (fourth.error) throw fourth.error;
    expect(fourth.summary).toMatchObject({ rejected: 2, deleted: 1 });
    expect(await countRows(db.url, "id = $1 AND deleted_at IS NOT NULL", [gone.id])).toBe(1);
    await expectDatabaseEqualsLedger(db.url, sim);
  });

  test.each([
    ["amount-as-string", 1],
    ["missing-created-at", 0],
  ] as const)("the oldest row sent %s: the first run still finds where the ledger starts", async (kind, quarantinedRows) => {
    const oldest = sim.ledger.all().at(-1)!;
    sim.ledger.setOdd(oldest.id, kind);
    const first = await syncLogged(db.url, sim, { windowMs: days(5) });
    if (first.error) throw first.error;
    // Its created_at still readable: the walk starts there and quarantines it. Not readable: the
    // walk starts at the next oldest, and the row, older than any window, is SYNC_START's to reach.
    expect(first.summary!.rejected).toBe(quarantinedRows);
    expect(await quarantined(db.url)).toHaveLength(quarantinedRows);
    await expectDatabaseEqualsLedger(db.url, sim);
  });

  test("one-off rows mangled by a proxy (10% of pages): the run commits what it was sent, the next clean run converges", async () => {
    Object.assign(sim.faults, { badRowRate: 0.1, seed: 3 });
    const first = await syncLogged(db.url, sim, { windowMs: days(5) });
    if (first.error) throw first.error;
    expect(sim.stats.injected.badRow ?? 0).toBeGreaterThan(0);
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({ status: "succeeded", retries: 0 });
    expect(run!.rows_rejected).toBe((await quarantined(db.url)).length);
    sim.resetFaults();
    const second = await syncLogged(db.url, sim, { windowMs: days(5), lookbackMs: days(31) });
    if (second.error) throw second.error;
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    // What a proxy mangled is resolved: by the row sent right, or (its id unreadable) by its window read readable.
    for (const entry of await quarantined(db.url)) expect([entry.raw, entry.resolved_at === null]).toEqual([entry.raw, false]);
  });

  test("a one-off row without a readable id: open while its window still lists a row without one, resolved once every row there comes readable", async () => {
    // A proxy drops the id of one row of the first page a run reads, twice: the backfill, then an
    // incremental run that reads the same row again without its id.
    const oldest = sim.ledger.all().sort((a, b) => a.created_at.localeCompare(b.created_at))[0]!;
    const mangleFirstPage = () => armAtWindow(sim, 1, () => Object.assign(sim.faults, { badRowNext: 1, badRowKinds: ["missing-id"] }));
    mangleFirstPage();
    const first = await syncLogged(db.url, sim, { windowMs: days(5) });
    if (first.error) throw first.error;
    const [entry] = await quarantined(db.url);
    expect(entry).toMatchObject({ reason_code: "MISSING_ID", transaction_id: null, resolved_at: null });
    // The row itself was never received with its id: it is missing, and its entry the only trace.
    const mangled = sim.ledger.all().find((r) => entry!.raw.includes(`"created_at":"${r.created_at}"`))!;
    expect(await countRows(db.url, "id = $1", [mangled.id])).toBe(0);

    mangleFirstPage();
    const lookback = days(Math.ceil((Date.now() - Date.parse(`${oldest.created_at}Z`)) / days(1)) + 1);
    const again = await syncLogged(db.url, sim, { windowMs: days(5), lookbackMs: lookback });
    if (again.error) throw again.error;
    const open = (await quarantined(db.url)).filter((e) => e.resolved_at === null);
    expect(open.length).toBeGreaterThan(0);

    sim.resetFaults();
    const clean = await syncLogged(db.url, sim, { windowMs: days(5), lookbackMs: lookback });
    if (clean.error) throw clean.error;
    await expectDatabaseEqualsLedger(db.url, sim);
    const [, , cleanRun] = await syncRuns(db.url);
    for (const e of await quarantined(db.url))
      expect([e.reason_code, e.resolution]).toEqual([
        e.reason_code,
        `every row listed where it was received came readable in run ${cleanRun!.id}`,
      ]);
  });

  test("a row quarantined for good and then deleted upstream: open while listed, resolved once its window settles without it", async () => {
    const odd = makeOdd(sim, ["amount-as-string"]);
    const row = odd.get("amount-as-string")!;
    const lookback = days(31);
    for (const received of [1, 2]) {
      const run = await syncLogged(db.url, sim, { windowMs: days(5), lookbackMs: lookback });
      if (run.error) throw run.error;
      expect(await quarantined(db.url)).toMatchObject([{ transaction_id: row.id, times_received: received, resolved_at: null }]);
    }
    sim.ledger.remove(row.id);
    const after = await syncLogged(db.url, sim, { windowMs: days(5), lookbackMs: lookback });
    if (after.error) throw after.error;
    await expectDatabaseEqualsLedger(db.url, sim);
    const last = (await syncRuns(db.url)).at(-1)!;
    expect((await quarantined(db.url)).map((e) => e.resolution)).toEqual([`no longer listed where it was received, in run ${last.id}`]);
  });

  test("through the CLI: exit 0, a warning on stderr, status and status --json show the rejected rows", async () => {
    makeOdd(sim, ["missing-created-at", "unknown-status", "null-description"]);
    const env = fixedWindowsEnv(db.url, sim, "5d");
    const result = await cli(["run"], env).done; // cli() fails the test if the token is printed
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/1 row\(s\) were quarantined instead of stored \(table quarantined_rows\): MISSING_CREATED_AT/);
    const status = await cli(["status", "--json"], env).done;
    const report = JSON.parse(status.stdout);
    expect(report).toMatchObject({ quarantinedRows: 1, runs: [{ status: "succeeded", rejected: 1 }] });
    const text = await cli(["status"], env).done;
    expect(text.stdout).toMatch(/quarantined rows 1 unresolved/);
    // The runs table: the succeeded run's cell under "rejected" (columns before "error" hold no spaces).
    const lines = text.stdout.split("\n");
    const header = lines.findIndex((line) => /\brejected\b/.test(line));
    const column = lines[header]!.trim().split(/\s+/).indexOf("rejected");
    expect(lines[header + 1]!.trim().split(/\s+/)[column]).toBe("1");
    await expectDatabaseEqualsLedger(db.url, sim);
  });
});

interface BodyCase {
  name: string;
  body: string;
  message: RegExp;
}

const bodies: BodyCase[] = [
  {
    name: "a non-JSON body",
    body: "<!doctype html><p>Upstream error</p>",
    message: /the body is not valid JSON \(.*\); it begins "<!doctype html>/,
  },
  {
    name: "an envelope without results",
    body: '{"count": 12, "next": null, "previous": null}',
    message: /the response envelope has an invalid field "results": expected an array of transactions, it is missing/,
  },
  {
    name: "a count of the wrong type",
    body: '{"count": "12", "results": []}',
    message: /the response envelope has an invalid field "count": expected a JSON number, got string "12"/,
  },
];

describe("bodies that are not a page", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeEach(async () => {
    db = await createMigratedDatabase("faults-payloads-body");
    sim = await seededSimulator(902, 900, 30);
  });
  afterEach(async () => {
    await sim?.close();
    await db?.drop();
  });

  const arm = (c: BodyCase) =>
    armAtWindow(
      sim,
      3,
      () => {},
      (): InterceptResponse => ({ status: 200, body: c.body }),
    );

  test.each(bodies)("$name: the window commits nothing and the error says what was wrong", async (c) => {
    const watch = arm(c);
    const outcome = await syncLogged(db.url, sim, { windowMs: days(5), retries: 1 });
    expect(outcome.error?.code).toBe("API_RESPONSE_INVALID");
    expect(outcome.error!.message).toMatch(c.message);
    expect(await watermarkOf(db.url)).toBe(watch.armed());
    expect(await countRows(db.url, "created_at >= $1", [new Date(parseTimestamp(watch.armed()!)! / 1000)])).toBe(0);
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({ status: "failed", error_code: "API_RESPONSE_INVALID", windows_walked: 2 });
    expect(run!.error_message).toMatch(c.message);
    expect(`${outcome.log}${outcome.error!.message}${outcome.error!.stack}${JSON.stringify(run)}`).not.toContain(testToken);

    sim.faults.intercept = undefined;
    const clean = await syncLogged(db.url, sim, { windowMs: days(5) });
    if (clean.error) throw clean.error;
    await expectDatabaseEqualsLedger(db.url, sim);
  });

  test("through the CLI, an envelope without results: exit 1, the message on stderr, no token anywhere", async () => {
    const c = bodies[1]!;
    arm(c);
    const env = fixedWindowsEnv(db.url, sim, "5d", { GENERECT_RETRIES: "0" });
    const result = await cli(["run"], env).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/generect-sync run: error \[API_RESPONSE_INVALID\]: /);
    expect(result.stderr).toMatch(c.message);
    const status = await cli(["status", "--json"], env).done;
    expect(JSON.parse(status.stdout).runs[0]).toMatchObject({ status: "failed", error: expect.stringMatching(c.message) });
  });
});
