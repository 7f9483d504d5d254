// A fresh window's 15-minute rollups inside it are computed from the rows it sends, not aggregated
// again by Postgres: each must be the row Postgres' aggregate gives, every column's text included.
// Postgres is the oracle (bucketsDifferingFromAggregate recomputes every bucket from transactions).
// What this code cannot foresee exactly (an exponent, a description ILIKE might fold otherwise)
// leaves its bucket to Postgres, and another write than a clean insert leaves the whole window to it.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import pg from "pg";
import type { Transaction } from "../../src/api/schema.js";
import { NumericSum } from "../../src/db/numeric-sum.js";
import { fillRollupsSql, insertComputedRollupsSql } from "../../src/db/sql/rollups.js";
import { writePath } from "../../src/db/sql/transactions.js";
import { startRun } from "../../src/job/run-record.js";
import { FreshInserts } from "../../src/sync/fresh-inserts.js";
import type { Window } from "../../src/sync/plan.js";
import { bucketMicros, ceilBucket, floorBucket, MovedBuckets, refreshRollups, WrittenSpan } from "../../src/sync/rollups.js";
import { writeRows } from "../../src/sync/write-rows.js";
import { WrittenRollups } from "../../src/sync/written-rollups.js";
import { asMicros, type Micros } from "../../src/time.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { generator } from "../helpers/random.js";
import { bucketsDifferingFromAggregate, expectRollupsEqualLedger } from "../helpers/rollups.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { days, ms } from "../helpers/time.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createMigratedDatabase("written-rollups");
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {}); // an idle connection the harness terminates must not crash the worker
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

test("floorBucket and ceilBucket place every safe instant exactly, a microsecond either side of a bucket's edge included (a double's division rounds the right way there)", () => {
  const bucket = BigInt(bucketMicros);
  const reference = (t: bigint) => {
    const floor = t - (((t % bucket) + bucket) % bucket);
    return [floor, floor === t ? t : floor + bucket].map(Number);
  };
  const random = generator(3);
  const instants: number[] = [0, -1, 1, Number.MAX_SAFE_INTEGER - 1, -Number.MAX_SAFE_INTEGER + 1];
  for (let i = 0; i < 20_000; i++) {
    const edge = Math.floor((random() * 2 - 1) * (Number.MAX_SAFE_INTEGER / bucketMicros - 1)) * bucketMicros;
    instants.push(edge - 1, edge, edge + 1);
  }
  const differing = instants.filter((t) => {
    const [floor, ceil] = reference(BigInt(t));
    return floorBucket(asMicros(t)) !== floor || ceilBucket(asMicros(t)) !== ceil;
  });
  expect(differing.slice(0, 5)).toEqual([]);
});

test("NumericSum writes Postgres' own sum(numeric) text, scale included, for every set of values", async () => {
  const random = generator(5);
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
  const literal = () => {
    const whole = random() < 0.4 ? "0" : `${1 + Math.floor(random() * 9)}${digits(Math.floor(random() * (random() < 0.2 ? 30 : 6)))}`;
    const fraction = random() < 0.3 ? "" : `.${digits(1 + Math.floor(random() * (random() < 0.2 ? 20 : 6)))}`;
    const text = `${whole}${fraction}`;
    return random() < 0.6 && /[1-9]/.test(text) ? `-${text}` : text; // storedNumeric's form: no negative zero
  };
  const sets: string[][] = [[], ["0.00"], ["-0.50", "0.5"], ["9007199254740991", "1"], ["-9007199254740.991", "-0.009"]];
  for (let i = 0; i < 1500; i++) sets.push(Array.from({ length: 1 + Math.floor(random() * 30) }, literal));
  const { rows } = await pool.query<{ n: number; sum: string }>(
    `SELECT n, COALESCE(sum(v), 0)::text AS sum FROM generate_series(0, $3::int - 1) AS s(n)
     LEFT JOIN unnest($1::int[], $2::numeric[]) AS t(set, v) ON t.set = s.n GROUP BY n ORDER BY n`,
    [sets.flatMap((set, n) => set.map(() => n)), sets.flat(), sets.length],
  );
  const differing = sets
    .map((set, n) => {
      const sum = new NumericSum();
      for (const value of set) sum.add(value);
      return { set, computed: sum.text, postgres: rows[n]!.sum };
    })
    .filter((d) => d.computed !== d.postgres);
  expect(differing.slice(0, 5)).toEqual([]);
});

describe("a fresh window's buckets", () => {
  const seenAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  const at = (time: string): Micros => {
    const [clock, fraction = "0"] = time.split(".");
    return asMicros(Date.parse(`2025-01-01T${clock}Z`) * 1000 + Number(fraction.padEnd(6, "0")));
  };
  let statements: { text: string; values: unknown[] }[] = [];

  function transaction(n: number, createdAt: string, overrides: Partial<Transaction> = {}): Transaction {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    return {
      id,
      createdAt: at(createdAt),
      updatedAt: null,
      status: "success",
      balanceType: "platform",
      amount: "-1",
      description: `row ${n}`,
      afterBalance: String(1000 - n),
      raw: JSON.stringify({ id, n }),
      ...overrides,
    };
  }

  /** One window's writes and its rollups, as syncWindow makes them when it held nothing, on a connection whose statements are recorded. */
  async function window(account: string, span: Window, batches: Transaction[][]): Promise<WrittenRollups> {
    const runId = await startRun(pool, account, "run", undefined);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const query = client.query.bind(client) as (text: unknown, values?: unknown) => Promise<pg.QueryResult>;
    (client as unknown as { query: typeof query }).query = (text, values) => {
      statements.push({ text: typeof text === "string" ? text : "", values: (values as unknown[]) ?? [] });
      return query(text, values);
    };
    const rollups = new WrittenRollups(span);
    const written = new WrittenSpan(span);
    const moved = new MovedBuckets();
    const fresh = new FreshInserts(writePath);
    try {
      await client.query("BEGIN");
      for (const batch of batches) {
        written.add(batch);
        await writeRows(client, batch, {
          account,
          runId,
          seenAt,
          fresh,
          rollups,
          beforeUpsert: (ids) => moved.record(client, ids, account, span),
        });
      }
      await refreshRollups(client, account, written.span, moved, { computed: rollups.computed });
      await client.query("COMMIT");
    } finally {
      await client.end();
    }
    return rollups;
  }

  /** The bucket ranges fillRollupsSql aggregated, as "HH:MM-HH:MM". */
  const aggregatedRanges = () =>
    statements
      .filter((s) => s.text === fillRollupsSql)
      .flatMap((s) => {
        const [lows, highs] = [s.values[1], s.values[2]].map((a) => String(a).slice(1, -1).split(","));
        return lows!.map((low, i) => `${low.slice(12, 17)}-${highs![i]!.slice(12, 17)}`);
      });
  const inserts = () => statements.filter((s) => s.text === insertComputedRollupsSql).length;

  test("odd values inside the window are computed as Postgres aggregates them; edges and unforeseeable buckets are aggregated", async () => {
    const account = "odd";
    // The neighbours' rows share the window's edge buckets (00:00-00:15 and 03:00-03:15).
    await window(account, { from: at("00:00:00"), to: at("00:07:00") }, [[transaction(1, "00:05:00")]]);
    const later = { from: at("03:07:00"), to: at("04:00:00") };
    statements = [];
    const rows = [
      transaction(2, "00:07:00", { amount: "-2.5" }),
      // Three rows of one instant: the closing row is the greatest id as a uuid, whatever case it was sent in.
      transaction(3, "00:20:00.000001", { id: "aaaaaaaa-0000-4000-8000-000000000003", amount: "-0.50", afterBalance: "7.10" }),
      transaction(4, "00:20:00.000001", { id: "CCCCCCCC-0000-4000-8000-000000000004", amount: "-0.125", afterBalance: null }),
      transaction(5, "00:20:00.000001", { id: "bbbbbbbb-0000-4000-8000-000000000005", amount: "-1", afterBalance: "5" }),
      transaction(6, "00:16:00", { amount: "0" }),
      transaction(7, "00:17:00", { amount: "-0.00", description: null }),
      transaction(8, "00:31:00", { amount: "10.10", description: null, balanceType: "crédits ✓" }),
      transaction(9, "00:32:00", { amount: "5", description: "REFUND issued", status: "réfunded" }),
      transaction(10, "00:33:00", { amount: "2.500", description: "partial Refund, café" }),
      transaction(11, "00:34:00", { amount: "250", description: "Top-up" }),
      transaction(12, "00:35:00", { amount: "1", description: "" }),
      // Foreseen by Postgres only: a non-ASCII description without "refund", an amount with an exponent.
      transaction(13, "00:46:00", { amount: "3", description: "Rückerstattung" }),
      transaction(14, "00:47:00", { amount: "-1" }),
      transaction(15, "01:01:00", { amount: "-1.5E1" }),
      // A balance with an exponent is read by Postgres from the literal sent, as the row's was.
      transaction(16, "01:16:00", { afterBalance: "1.5e2" }),
      // On a bucket's first and last microsecond.
      transaction(17, "01:30:00", { amount: "-0.01", afterBalance: "-2E-1" }),
      transaction(18, "01:44:59.999999", { amount: "-0.02", afterBalance: null }),
      transaction(19, "01:45:00", { amount: "-0.03" }),
      transaction(20, "02:00:00", { amount: "123456789012345678901234567890.123456789", description: "Top-up" }),
      transaction(21, "02:01:00", { amount: "-0.000000001" }),
      transaction(22, "02:02:00", { amount: "-98765432109876543210.5" }),
      transaction(23, "03:06:59.999999", { amount: "-4" }),
    ];
    const rollups = await window(account, { from: at("00:07:00"), to: later.from }, [rows.slice(0, 12), rows.slice(12)]);
    await window(account, later, [[transaction(24, "03:10:00")]]);

    const computed = rollups.computed!;
    expect(computed.span).toEqual({ from: at("00:15:00"), to: at("03:00:00") });
    expect(computed.leftToPostgres).toEqual([at("00:45:00"), at("01:00:00")]);
    expect(computed.groups).toBe(8);
    expect(inserts()).toBe(1);
    // Only the edges and the unforeseeable buckets were aggregated (the later window's own range follows).
    expect(aggregatedRanges()).toEqual(["00:00-00:15", "00:45-01:15", "03:00-03:15", "03:00-03:15"]);
    expect(await bucketsDifferingFromAggregate(db.url)).toEqual([]);
  });

  test("a batch meeting a held key (upserted instead) leaves every bucket of the window to Postgres", async () => {
    statements = [];
    const span = { from: at("05:00:00"), to: at("06:00:00") };
    const rollups = await window("held-key", span, [
      [transaction(1, "05:20:00"), transaction(2, "05:21:00")],
      [transaction(2, "05:21:00", { amount: "-2.5", raw: '{"n":2,"amount":-2.5}' }), transaction(3, "05:40:00")],
    ]);
    expect(rollups.computed).toBeUndefined();
    expect(inserts()).toBe(0);
    expect(aggregatedRanges()).toEqual(["05:15-05:45"]);
    expect(await bucketsDifferingFromAggregate(db.url)).toEqual([]);
  });
});

test("a backfill through the pipeline writes its windows' inner buckets as computed; rollups equal the ledger before and after changes", async () => {
  const sim = await seededSimulator(4343, 1500, 2);
  const statements: string[] = [];
  const original = pg.Client.prototype.query;
  const spy = jest.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    if (typeof args[0] === "string") statements.push(args[0]);
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  const account = "pipeline";
  try {
    const backfill = await syncOnce(db.url, sim, { account, windowMs: ms(6 * 60 * 60_000) });
    expect(backfill.inserted).toBe(1500);
    expect(statements.filter((s) => s === insertComputedRollupsSql).length).toBeGreaterThan(3);
    await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["UTC", "Asia/Kathmandu"], account);
    expect(await bucketsDifferingFromAggregate(db.url)).toEqual([]);

    // Windows that held rows are aggregated by Postgres: updates, a moved row, a deletion, an insert.
    statements.length = 0;
    const rows = sim.ledger.all();
    sim.ledger.update(rows[100]!.id, { amount: "-7.25" });
    sim.ledger.update(rows[200]!.id, { created_at: rows[1_400]!.created_at });
    sim.ledger.remove(rows[300]!.id);
    sim.ledger.add({ created_at: new Date(Date.parse(`${rows[1_450]!.created_at}Z`) + 1), amount: "12", description: "Refund" });
    await syncOnce(db.url, sim, { account, windowMs: ms(6 * 60 * 60_000), lookbackMs: days(3) });
    expect(statements.filter((s) => s === insertComputedRollupsSql)).toHaveLength(0);
  } finally {
    spy.mockRestore();
    await sim.close();
  }
  await expectDatabaseEqualsLedger(db.url, sim, account);
  await expectRollupsEqualLedger(db.url, sim.ledger.all(), ["UTC", "Asia/Kathmandu"], account);
  expect(await bucketsDifferingFromAggregate(db.url)).toEqual([]);
}, 120_000);
