// Several lies at once, drawn from a seed: the simulator's faults combined (errors, resets, cut
// bodies, miscounts, a clamped page size, unstable ties, rows moving and arriving mid-walk, mangled
// rows, pages from a replica behind on edits), over runs between which the ledger changes (rows
// added, edited, deleted, moved in time), for two accounts whose ledgers share ids, synced one
// after the other or together as one fleet (one request limiter, one pool, one lock connection),
// some rounds stopped partway or losing every database session partway. Each faulty run may succeed
// or fail, but only with a documented error code, and whatever it leaves holds together: the
// history is a chain and the rollups are the aggregate of the rows. A clean full run then
// converges: each account equals its ledger field by field, its rollups equal the ledger's own
// days, and verify's proofs about the mirror hold. CI runs a few seeds; GENERECT_SOAK=1 runs
// GENERECT_SOAK_SEEDS of them (default 200) from GENERECT_SOAK_FIRST_SEED (default 1000).
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { InterruptedError, SyncError } from "../../src/errors.js";
import { runFleet } from "../../src/job/fleet.js";
import { verify } from "../../src/job/verify.js";
import {
  BAD_ROW_KINDS,
  formatMicros,
  Ledger,
  type SimulatorFaults,
  type SimulatorHandle,
  seedTransactions,
  TX_STATUSES,
} from "../../src/simulator/index.js";
import { mulberry32 } from "../../src/simulator/prng.js";
import { asMillis } from "../../src/time.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { bucketsDifferingFromAggregate, expectRollupsEqualLedger } from "../helpers/rollups.js";
import { compareDatabaseWithLedger, LogCapture, startTestSimulator, testConfig, testToken } from "../helpers/sync.js";
import { dayMs, hourMs } from "../helpers/time.js";
import { expectVersionsConsistent, registerSecret, soak, syncLogged } from "./support.js";

const otherToken = "tok_live_other_4be1c7a0";
registerSecret(otherToken);
const accounts = [
  { account: "acct", token: testToken },
  { account: "other", token: otherToken },
] as const;

const seeds = soak
  ? Array.from(
      { length: Number(process.env.GENERECT_SOAK_SEEDS ?? 200) },
      (_, i) => Number(process.env.GENERECT_SOAK_FIRST_SEED ?? 1000) + i,
    )
  : [11, 12, 13];
const faultyRounds = soak ? 5 : 3;

/** The scenario's draws: the same seed draws the same scenario. */
function random(seed: number) {
  const next = mulberry32(seed);
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}
type Random = ReturnType<typeof random>;

/** Each lie the simulator can tell, at a rate the retries and re-walks are meant to absorb. */
const lies: ((r: Random) => Partial<SimulatorFaults>)[] = [
  (r) => ({ throttleRate: 0.02 + 0.08 * r.next(), retryAfterSeconds: 0 }),
  (r) => ({ failRate: 0.02 + 0.08 * r.next() }),
  (r) => ({ resetRate: 0.02 + 0.08 * r.next() }),
  (r) => ({ truncateRate: 0.02 + 0.08 * r.next() }),
  (r) => ({ invalidJsonRate: 0.02 + 0.06 * r.next() }),
  (r) => ({ countDriftRate: 0.1 + 0.4 * r.next() }),
  (r) => ({ countOffset: r.pick([-3, -1, 1, 2]) }),
  (r) => ({ clampLimit: r.int(20, 90) }),
  () => ({ unstableOrder: true }),
  (r) => ({ churnRate: 0.02 + 0.08 * r.next() }),
  (r) => ({ arrivalRate: 0.02 + 0.08 * r.next() }),
  (r) => ({ badRowRate: 0.02 + 0.08 * r.next(), badRowKinds: [r.pick(BAD_ROW_KINDS), r.pick(BAD_ROW_KINDS)] }),
  (r) => ({ jitterMs: r.int(1, 4) }),
];

function drawFaults(r: Random, seed: number): Partial<SimulatorFaults> {
  const faults: Partial<SimulatorFaults> = { seed };
  const count = r.int(2, 5);
  for (let i = 0; i < count; i++) Object.assign(faults, r.pick(lies)(r));
  return faults;
}

/** Rows added, edited, deleted and moved, mostly inside the lookback, some older (a full run sees those). */
function changeLedger(r: Random, ledger: Ledger): void {
  const now = Date.now() - 60_000;
  const instant = (ms: number) => formatMicros(Math.round(ms) * 1000);
  const recent = () => now - r.next() * 20 * hourMs;
  const rows = ledger.all();
  for (let i = r.int(0, 15); i > 0; i--) ledger.add({ created_at: instant(recent()), amount: r.chance(0.8) ? "-1.5" : "20" });
  for (let i = r.int(0, 10); i > 0 && rows.length; i--) {
    const row = r.pick(rows);
    if (!ledger.get(row.id)) continue;
    ledger.update(row.id, r.chance(0.5) ? { description: `edited ${r.int(0, 1e6)}` } : { status: r.pick(TX_STATUSES) });
  }
  for (let i = r.int(0, 5); i > 0 && rows.length; i--) ledger.remove(r.pick(rows).id);
  if (rows.length && r.chance(0.5)) {
    const row = r.pick(rows);
    if (ledger.get(row.id)) ledger.update(row.id, { created_at: instant(r.chance(0.5) ? recent() : now - r.next() * 10 * dayMs) });
  }
}

function ledgersFor(r: Random, seed: number): [Ledger, Ledger] {
  const to = new Date(Date.now() - 60_000);
  const rows = r.int(150, 450);
  const from = new Date(to.getTime() - r.int(2, 12) * dayMs);
  const first = new Ledger(seedTransactions({ seed, rows, from, to }), { seed });
  // The other account shares every id, with its own values for some and without some rows.
  const second = new Ledger(seedTransactions({ seed, rows, from, to }), { seed: seed + 1 });
  for (const [i, row] of second.all().entries()) {
    if (i % 4 === 0) second.update(row.id, { description: `other's own ${i}` });
    if (i % 9 === 1) second.remove(row.id);
  }
  return [first, second];
}

/** Every other session of the test's own database terminated, as a failover does. */
function terminateSessions(url: string): Promise<unknown> {
  return query(
    url,
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
  );
}

/** The rounds that led to a failure, for whoever reads it. */
function withRounds(error: unknown, outcomes: string[]): unknown {
  if (error instanceof Error) error.message += `\nrounds:\n${outcomes.join("\n")}`;
  return error;
}

async function expectConsistent(url: string): Promise<void> {
  await expectVersionsConsistent(url);
  expect(await bucketsDifferingFromAggregate(url)).toEqual([]);
}

async function expectEqualsLedger(url: string, account: string, ledger: Ledger): Promise<void> {
  const diff = await compareDatabaseWithLedger(url, account, ledger);
  expect({ missing: diff.missing, unexpected: diff.unexpected, different: [...diff.different] }).toEqual({
    missing: [],
    unexpected: [],
    different: [],
  });
  expect(diff.compared + diff.rejected.length).toBe(ledger.size);
}

describe("several lies at once, over changing ledgers", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle | undefined;
  beforeEach(async () => {
    db = await createMigratedDatabase("combined lies");
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await db.drop();
  });

  test.each(seeds)("seed %i", async (seed) => {
    const r = random(seed);
    const cuts = random(seed + 7_000_000);
    const replicas = random(seed + 8_000_000);
    const [first, second] = ledgersFor(r, seed);
    sim = await startTestSimulator({ ledger: first, accounts: { [otherToken]: second } });
    const ledgerOf = { acct: first, other: second };
    const tokenOf = Object.fromEntries(accounts.map((a) => [a.account, a.token]));
    const overrides = r.chance(0.5) ? { windowRows: r.int(60, 300) } : { windowRows: 0, windowMs: asMillis(r.int(1, 4) * dayMs) };
    const outcomes: string[] = [];
    for (let round = 0; round < faultyRounds; round++) {
      if (round > 0) for (const ledger of [first, second]) changeLedger(r, ledger);
      sim.resetFaults();
      const faults = drawFaults(r, seed * 10 + round);
      // Some rounds read pages from a replica behind on edits, drawn apart as the session cuts are.
      if (replicas.chance(0.3)) faults.staleRate = 0.1 + 0.5 * replicas.next();
      Object.assign(sim.faults, faults);
      // A full run walks the whole history again: many requests to meet the faults, not two or three.
      const full = r.chance(0.5);
      // Some rounds are stopped partway (SIGTERM's path): the run is interrupted, what it committed stays.
      const stopAfterMs = r.chance(0.25) ? r.int(5, 300) : undefined;
      const stop = new AbortController();
      const timer = stopAfterMs === undefined ? undefined : setTimeout(() => stop.abort(new InterruptedError("SIGTERM")), stopAfterMs);
      // Some rounds lose every database session partway (a failover), drawn apart so that the
      // draws above stay what they were for each seed.
      const cutAfterMs = cuts.chance(0.2) ? cuts.int(5, 300) : undefined;
      let cutting: Promise<unknown> | undefined;
      const cutTimer = cutAfterMs === undefined ? undefined : setTimeout(() => (cutting = terminateSessions(db.url)), cutAfterMs);
      const tag = (account: string, how: string) =>
        `${account}${full ? " (full)" : ""}${how}${stopAfterMs === undefined ? "" : ` (stopped at ${stopAfterMs} ms)`}` +
        `${cutAfterMs === undefined ? "" : ` (sessions cut at ${cutAfterMs} ms)`}`;
      if (r.chance(0.5)) {
        // Both accounts as one fleet: one request limiter, one pool, one lock connection.
        const concurrency = r.int(1, 4);
        const fleet = await runFleet({
          accounts: accounts.map(({ account, token }) => ({
            name: account,
            tokenEnv: `${account.toUpperCase()}_TOKEN`,
            config: testConfig(sim!, { ...overrides, account, apiToken: token }),
          })),
          databaseUrl: db.url,
          log: new LogCapture().logger,
          pass: "run",
          concurrency,
          dbConnections: r.int(3, 6),
          clientOptions: { minRetryDelayMs: 5, maxRetryDelayMs: 50 },
          full,
          signal: stop.signal,
        });
        for (const o of fleet) {
          // A failure carries its error's code; UNEXPECTED is a failure that was no SyncError: a bug.
          expect([o.account, o.status, o.code]).not.toEqual([o.account, "failed", "UNEXPECTED"]);
          expect(stopAfterMs === undefined ? ["succeeded", "failed"] : ["succeeded", "failed", "interrupted"]).toContain(o.status);
          outcomes.push(`${tag(o.account, ` (fleet of ${concurrency})`)}: ${o.code ?? "ok"} under ${JSON.stringify(faults)}`);
        }
      } else {
        for (const { account, token } of accounts) {
          const outcome = await syncLogged(db.url, sim, { ...overrides, account, apiToken: token }, { full, signal: stop.signal });
          // A failure names what failed with a documented code; anything else is a bug.
          if (outcome.error && !(outcome.error instanceof SyncError)) throw outcome.error;
          outcomes.push(`${tag(account, "")}: ${outcome.error ? (outcome.error as SyncError).code : "ok"} under ${JSON.stringify(faults)}`);
        }
      }
      clearTimeout(timer);
      clearTimeout(cutTimer);
      await cutting;
      await expectConsistent(db.url).catch((error: unknown) => {
        throw withRounds(error, outcomes);
      });
    }
    sim.resetFaults();
    try {
      for (const { account, token } of accounts) {
        const outcome = await syncLogged(db.url, sim, { ...overrides, account, apiToken: token }, { full: true });
        expect([account, outcome.error?.message]).toEqual([account, undefined]);
      }
      await expectConsistent(db.url);
      for (const { account } of accounts) {
        await expectEqualsLedger(db.url, account, ledgerOf[account]);
        await expectRollupsEqualLedger(db.url, ledgerOf[account].all(), ["UTC", "Asia/Kathmandu"], account);
        // The proofs about the mirror hold: every window's count, the versions' hash chain, no row
        // left in quarantine. (The balance proofs judge the ledger's own after_balance chain, which
        // rows added in the past or moved in time break upstream.)
        const report = await verify({
          config: testConfig(sim, { ...overrides, account, apiToken: tokenOf[account] }),
          databaseUrl: db.url,
          log: new LogCapture().logger,
          clientOptions: { minRetryDelayMs: 5, maxRetryDelayMs: 50 },
        });
        const mirror = report.proofs.filter((p) => ["audit_sweep", "tamper_evidence", "quarantine"].includes(p.name));
        expect(mirror.filter((p) => !p.holds)).toEqual([]);
        expect(mirror).toHaveLength(3);
      }
    } catch (error) {
      throw withRounds(error, outcomes);
    }
  });
});
