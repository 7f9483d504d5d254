// A fresh window's chain leaves are computed from the rows it sends, not read back: each must be the
// leaf verify later computes from the stored row. Postgres is the oracle for every value's stored
// text; what this code cannot foresee exactly (an exponent, an instant a double does not hold exactly), another write
// than a clean insert, or a version the window did not write makes the link read its versions back.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import pg from "pg";
import type { Transaction } from "../../src/api/schema.js";
import { timestamptzArray } from "../../src/db/binary-array.js";
import { chainCurrentVersionsSql } from "../../src/db/sql/proofs.js";
import { writePath } from "../../src/db/sql/transactions.js";
import { storedInstant, storedNumeric } from "../../src/db/stored-form.js";
import { startRun } from "../../src/job/run-record.js";
import { chainTime, checkChain, extendChain } from "../../src/proofs/chain.js";
import { WrittenLeaves } from "../../src/proofs/written-leaves.js";
import { FreshInserts } from "../../src/sync/fresh-inserts.js";
import { writeRows } from "../../src/sync/write-rows.js";
import { asMicros, fromDate, type Micros } from "../../src/time.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { generator } from "../helpers/random.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createMigratedDatabase("written-leaves");
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {}); // an idle connection the harness terminates must not crash the worker
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const microsOfYear = (year: number): Micros => {
  const date = new Date(0);
  date.setUTCFullYear(year, 0, 1);
  return asMicros(date.getTime() * 1000);
};

describe("stored forms", () => {
  test("storedNumeric gives Postgres' own numeric text for every plain JSON number, and nothing for an exponent", async () => {
    const random = generator(7);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
    const plain = [
      "0",
      "-0",
      "0.0",
      "-0.0",
      "-0.000000",
      "0.000",
      "1",
      "-1",
      "10.100000",
      "-10.1",
      "0.5",
      "-0.0001",
      "1234567890123456789012345678901234567890",
    ];
    for (let i = 0; i < 3000; i++) {
      const whole = random() < 0.3 ? "0" : `${1 + Math.floor(random() * 9)}${digits(Math.floor(random() * 25))}`;
      const fraction = random() < 0.3 ? "" : `.${digits(1 + Math.floor(random() * 20))}`;
      plain.push(`${random() < 0.5 ? "-" : ""}${whole}${fraction}`);
    }
    const { rows } = await pool.query<{ text: string }>(
      "SELECT s::numeric::text AS text FROM unnest($1::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n",
      [plain],
    );
    const differing = plain.filter((literal, i) => storedNumeric(literal) !== rows[i]!.text);
    expect(differing).toEqual([]);
    for (const literal of ["1e3", "1E-2", "-0e0", "1.50e1", "2.5E+3"]) expect(storedNumeric(literal)).toBeUndefined();
  });

  test("storedInstant gives Postgres' own text for every instant a double holds to the microsecond, and nothing beyond", async () => {
    const random = generator(11);
    const earliest = -Number.MAX_SAFE_INTEGER;
    const instants: Micros[] = [
      asMicros(earliest),
      asMicros(Number.MAX_SAFE_INTEGER),
      asMicros(0),
      asMicros(-1),
      asMicros(1),
      microsOfYear(1700),
    ];
    for (let i = 0; i < 3000; i++) instants.push(asMicros(earliest + Math.floor(random() * 2 * Number.MAX_SAFE_INTEGER)));
    const { rows } = await pool.query<{ json: string }>(
      "SELECT to_json(t AT TIME ZONE 'UTC')::text AS json FROM unnest($1::timestamptz[]) WITH ORDINALITY AS x(t, n) ORDER BY n",
      [timestamptzArray(instants)],
    );
    const differing = instants.filter((micros, i) => storedInstant(micros) !== chainTime(rows[i]!.json));
    expect(differing).toEqual([]);
    for (const year of [1, 1600, 2300, 9999]) expect(storedInstant(microsOfYear(year))).toBeUndefined();
  });
});

describe("a window's link", () => {
  const seenAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  let sent: string[] = [];

  function transaction(n: number, overrides: Partial<Transaction> = {}): Transaction {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    return {
      id,
      createdAt: asMicros(Date.UTC(2025, 0, 1) * 1000 + n * 1_000_001),
      updatedAt: n % 3 ? null : asMicros(Date.UTC(2025, 0, 2) * 1000 + n),
      status: "success",
      balanceType: "platform",
      amount: "-1.500",
      description: n % 2 ? null : `row ${n}`,
      afterBalance: n % 5 ? "10" : null,
      raw: JSON.stringify({ id, n }),
      ...overrides,
    };
  }

  /** One window's writes and its link, as syncWindow makes them, on a connection whose statements are recorded. */
  async function window(account: string, batches: Transaction[][]): Promise<WrittenLeaves> {
    const runId = await startRun(pool, account, "run", undefined);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const query = client.query.bind(client) as (text: unknown, values?: unknown) => Promise<pg.QueryResult>;
    (client as unknown as { query: typeof query }).query = (text, values) => {
      sent.push(typeof text === "string" ? text : "");
      return query(text, values);
    };
    const leaves = new WrittenLeaves(account, fromDate(seenAt));
    const fresh = new FreshInserts(writePath);
    try {
      await client.query("BEGIN");
      for (const batch of batches) await writeRows(client, batch, { account, runId, seenAt, fresh, leaves });
      await extendChain(client, { account, runId, windowFrom: null, windowTo: null }, undefined, leaves.versions);
      await client.query("COMMIT");
    } finally {
      await client.end();
    }
    return leaves;
  }

  const readBack = () => sent.some((s) => s === chainCurrentVersionsSql);

  test("computed from the rows sent, odd values included, equals what verify computes from the stored rows; nothing is read back", async () => {
    sent = [];
    const odd = [
      transaction(1, { amount: "-0.00", description: 'quote " \u00e9 \u2028 \ufffd \u{1f600}', afterBalance: "0" }),
      transaction(2, { amount: "12.3400", createdAt: asMicros(Date.UTC(1960, 5, 1) * 1000 + 7), status: "refunded" }),
      transaction(3, { createdAt: asMicros(microsOfYear(1700) + 999_999), updatedAt: asMicros(microsOfYear(2250) + 1) }),
      transaction(4, { raw: '{"id":"x","amount":-1.500,"d":"\\u0000","s":"\\ud800"}', description: "" }),
    ];
    const leaves = await window("from-rows", [odd, [5, 6, 7].map((n) => transaction(n))]);
    expect(leaves.versions?.count).toBe(7);
    expect(readBack()).toBe(false);
    await expectChainHolds("from-rows", 7);
  });

  test("a row whose stored text is not foreseen (an exponent) makes the link read its versions back", async () => {
    sent = [];
    const leaves = await window("exponent", [[transaction(1), transaction(2, { amount: "-1.5E1" })]]);
    expect(leaves.versions).toBeUndefined();
    expect(readBack()).toBe(true);
    await expectChainHolds("exponent", 2);
  });

  test("a batch meeting a held key (upserted instead) makes the link read its versions back", async () => {
    sent = [];
    const leaves = await window("held-key", [
      [transaction(1), transaction(2)],
      [transaction(2, { amount: "-2.5", raw: '{"n":2,"amount":-2.5}' }), transaction(3)],
    ]);
    expect(leaves.versions).toBeUndefined();
    expect(readBack()).toBe(true);
    await expectChainHolds("held-key", 4); // 1, 2, 3, and 2 updated
  });

  test("a version written outside the sync after the last link is read back with the window's own, not left out", async () => {
    await window("by-hand", [[transaction(1)]]);
    await query(
      db.url,
      `INSERT INTO transactions (account, id, created_at, status, balance_type, amount, raw, first_seen_at, last_seen_at)
       VALUES ('by-hand', '00000000-0000-4000-8000-00000000ffff', now(), 'success', 'platform', 1, '{}', now(), now())`,
    );
    sent = [];
    const leaves = await window("by-hand", [[transaction(2), transaction(3)]]);
    expect(leaves.versions?.count).toBe(2);
    expect(readBack()).toBe(true);
    await expectChainHolds("by-hand", 4);
  });
});

test("a backfill through the pipeline chains its fresh windows from the rows sent, and verify agrees", async () => {
  const sim = await seededSimulator(4242, 1200, 40);
  const statements: string[] = [];
  const original = pg.Client.prototype.query;
  const spy = jest.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    if (typeof args[0] === "string") statements.push(args[0]);
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  try {
    const backfill = await syncOnce(db.url, sim, { account: "pipeline" });
    expect(backfill.inserted).toBe(1200);
    expect(statements.filter((s) => s === writePath.insertNewPage).length).toBeGreaterThan(0);
    expect(statements.filter((s) => s === chainCurrentVersionsSql)).toHaveLength(0);
    statements.length = 0;
    // The next run's windows hold rows: a change there is chained from a read-back.
    const newest = sim.ledger.all().reduce((a, b) => (a.created_at > b.created_at ? a : b));
    sim.ledger.update(newest.id, { description: "changed" });
    expect((await syncOnce(db.url, sim, { account: "pipeline" })).updated).toBe(1);
    expect(statements.filter((s) => s === chainCurrentVersionsSql).length).toBeGreaterThan(0);
  } finally {
    spy.mockRestore();
    await sim.close();
  }
  await expectDatabaseEqualsLedger(db.url, sim, "pipeline");
  const [{ n }] = (await query<{ n: number }>(
    db.url,
    "SELECT count(*)::int AS n FROM transaction_versions WHERE account = 'pipeline'",
  )) as [{ n: number }];
  await expectChainHolds("pipeline", n);
}, 120_000);

/** verify's chain check: every version as it was chained, the stored head recomputed, nothing unlinked. */
async function expectChainHolds(account: string, versions: number): Promise<void> {
  const check = await checkChain(pool, account);
  expect({
    breaks: check.breaks,
    firstBreak: check.firstBreak,
    versions: check.versions,
    unlinked: check.unlinked,
    head: check.head,
  }).toEqual({
    breaks: 0,
    firstBreak: undefined,
    versions,
    unlinked: 0,
    head: check.storedHead,
  });
}
