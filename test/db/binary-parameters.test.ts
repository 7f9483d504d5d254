// The loader's binary array parameters read back by Postgres as the values they stand for, and the
// fresh window's unchecked insert: a held key rolls its batch back to the savepoint and the upsert
// settles it, with at most maxFreshSavepoints savepoints a window.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import type { Transaction } from "../../src/api/schema.js";
import { textArray, timestamptzArray, uuidArray } from "../../src/db/binary-array.js";
import { writePath } from "../../src/db/sql/transactions.js";
import { startRun } from "../../src/job/run-record.js";
import { FreshInserts, maxFreshSavepoints } from "../../src/sync/fresh-inserts.js";
import { writeRows } from "../../src/sync/write-rows.js";
import { asMicros, formatInstant, parseTimestamp } from "../../src/time.js";
import { expectVersionsConsistent } from "../faults/support.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createMigratedDatabase("binary-params");
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {}); // an idle connection the harness terminates must not crash the worker
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe("binary array parameters", () => {
  test("uuids arrive as the same uuids, in order", async () => {
    const ids = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"];
    const { rows } = await pool.query<{ id: string }>("SELECT id::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n) ORDER BY n", [
      uuidArray(ids),
    ]);
    expect(rows.map((r) => r.id)).toEqual(ids);
  });

  test("uuids in capitals, or mixed, arrive as the same uuids", async () => {
    const ids = ["ABCDEF01-2345-6789-ABCD-EF0123456789", "aBcDeF01-2345-6789-abCD-ef0123456789"];
    const { rows } = await pool.query<{ id: string }>("SELECT id::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n) ORDER BY n", [
      uuidArray(ids),
    ]);
    expect(rows.map((r) => r.id)).toEqual(ids.map((id) => id.toLowerCase()));
  });

  test("what is not a hyphenated uuid is refused, not sent as whatever bytes were there", () => {
    for (const bad of [
      "",
      "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg",
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",
      "é".repeat(36),
    ])
      expect(() => uuidArray(["00000000-0000-0000-0000-000000000000", bad])).toThrow("not a uuid");
  });

  test("instants arrive to the microsecond, before the epoch and before 2000 included, and null as NULL", async () => {
    const texts = [
      "2025-01-07T13:01:15.397996",
      "2000-01-01T00:00:00.000000",
      "1999-12-31T23:59:59.999999",
      "1970-01-01T00:00:00.000001",
      "1969-12-31T23:59:59.999999",
      "1900-01-01T00:00:00.000000",
      "1700-03-01T00:00:00.000001",
      "2250-12-31T23:59:59.999999",
    ];
    const instants = [...texts.map((t) => parseTimestamp(t)!), null];
    const { rows } = await pool.query<{ at: string | null }>(
      `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at FROM unnest($1::timestamptz[]) WITH ORDINALITY AS t(at, n) ORDER BY n`,
      [timestamptzArray(instants)],
    );
    expect(rows.map((r) => r.at)).toEqual([...texts, null]);
  });

  test("text arrives byte for byte: quotes, backslashes, braces, commas, NULL as a word, non-ASCII, empty, null", async () => {
    const values = ['a "quoted", {braced} \\ text', "NULL", "", "Zürich — 東京 🚀", "x".repeat(70_000), null, "\u00a0\t\n"];
    const { rows } = await pool.query<{ v: string | null; isNull: boolean }>(
      'SELECT v, v IS NULL AS "isNull" FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n',
      [textArray(values)],
    );
    expect(rows.map((r) => r.v)).toEqual(values);
    expect(rows.map((r) => r.isNull)).toEqual(values.map((v) => v === null));
  });

  test("empty arrays are empty", async () => {
    const { rows } = await pool.query(
      "SELECT cardinality($1::uuid[]) AS a, cardinality($2::timestamptz[]) AS b, cardinality($3::text[]) AS c",
      [uuidArray([]), timestamptzArray([]), textArray([])],
    );
    expect(rows[0]).toEqual({ a: 0, b: 0, c: 0 });
  });
});

function transaction(n: number, amount = "-1.50"): Transaction {
  const createdAt = asMicros(Date.UTC(2025, 0, 1) * 1000 + n * 1_000_001);
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const raw = JSON.stringify({ id, created_at: formatInstant(createdAt).slice(0, -1), amount, note: 'a "raw" row' });
  return {
    id,
    createdAt,
    updatedAt: null,
    status: "success",
    balanceType: "platform",
    amount,
    description: n % 2 ? null : `row ${n}`,
    afterBalance: n % 3 ? "100.000000" : null,
    raw,
  };
}

/** Runs work in one transaction on a client that records the statements it was sent. */
async function inWindow<T>(work: (client: pg.Client, sent: string[]) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const sent: string[] = [];
  const query = client.query.bind(client);
  client.query = ((text: string, values?: unknown[]) => {
    sent.push(text);
    return query(text, values);
  }) as typeof client.query;
  try {
    await client.query("BEGIN");
    const result = await work(client, sent);
    await client.query("COMMIT");
    return result;
  } finally {
    await client.end();
  }
}

async function held(account: string): Promise<{ id: string; amount: string; description: string | null; raw: string }[]> {
  return (await pool.query("SELECT id::text, amount::text, description, raw FROM transactions WHERE account = $1 ORDER BY id", [account]))
    .rows;
}

describe("a fresh window's inserts", () => {
  test("a batch meeting a held key is rolled back to its savepoint and upserted; the rest of the window goes on", async () => {
    const account = "fresh-conflict";
    const runId = await startRun(pool, account, "run", undefined);
    const context = { account, runId, seenAt: new Date() };
    await inWindow((client) => writeRows(client, [transaction(1), transaction(2)], { ...context, fresh: new FreshInserts(writePath) }));

    const counts = await inWindow(async (client) => {
      const fresh = new FreshInserts(writePath);
      // Row 2 is held (as if it had moved here from another window) and changed: an update, not a failure.
      const first = await writeRows(client, [transaction(3), transaction(2, "-2.50")], { ...context, fresh });
      const second = await writeRows(client, [transaction(4), transaction(5)], { ...context, fresh });
      return [first, second];
    });
    expect(counts).toEqual([
      { inserted: 1, updated: 1, unchanged: 0, stale: [] },
      { inserted: 2, updated: 0, unchanged: 0, stale: [] },
    ]);
    const rows = await held(account);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5].map((n) => transaction(n).id));
    expect(rows[1]).toMatchObject({ amount: "-2.50", raw: transaction(2, "-2.50").raw });
    expect(rows[0]).toMatchObject({ description: null, raw: transaction(1).raw });
    const history = await pool.query("SELECT id::text, amount::text, change FROM transaction_history WHERE account = $1", [account]);
    expect(history.rows).toEqual([{ id: transaction(2).id, amount: "-1.50", change: "update" }]);
  });

  test(`past ${maxFreshSavepoints} savepoints a window inserts checked, and a held key is still settled`, async () => {
    const account = "fresh-many";
    const runId = await startRun(pool, account, "run", undefined);
    const context = { account, runId, seenAt: new Date() };
    const batches = maxFreshSavepoints + 3;
    const sent = await inWindow(async (client, sent) => {
      const fresh = new FreshInserts(writePath);
      for (let b = 0; b < batches; b++)
        await writeRows(client, [transaction(1000 + 2 * b), transaction(1001 + 2 * b)], { ...context, fresh });
      // A row this window wrote, sent again changed: past the savepoints, the checked insert skips it and the upsert updates it.
      expect(await writeRows(client, [transaction(1000, "-9"), transaction(5000)], { ...context, fresh })).toEqual({
        inserted: 1,
        updated: 1,
        unchanged: 0,
        stale: [],
      });
      return sent;
    });
    expect(sent.filter((s) => s === "SAVEPOINT fresh_batch")).toHaveLength(maxFreshSavepoints);
    expect(sent.filter((s) => s === writePath.insertCheckedPage)).toHaveLength(batches - maxFreshSavepoints + 1);
    const rows = await held(account);
    expect(rows).toHaveLength(2 * batches + 1);
    expect(rows.find((r) => r.id === transaction(1000).id)).toMatchObject({ amount: "-9" });
  });

  test("any other failure of the insert is not swallowed", async () => {
    const account = "fresh-failure";
    const runId = await startRun(pool, account, "run", undefined);
    const bad = { ...transaction(7), amount: "not a number" };
    await expect(
      inWindow((client) => writeRows(client, [bad], { account, runId, seenAt: new Date(), fresh: new FreshInserts(writePath) })),
    ).rejects.toThrow(/invalid input syntax for type numeric/);
    expect(await held(account)).toEqual([]);
  });
});

describe("a fresh window meeting a row the account holds elsewhere (the API moved its created_at)", () => {
  test("the refused batch is upserted: the database equals the ledger, the row has one update, nothing else is lost", async () => {
    const own = await createMigratedDatabase("fresh-moved");
    const to = new Date(Date.now() - 60_000);
    const sim = await seededSimulator(41, 600, 60, { to });
    try {
      // The last 20 days first: the 40 days before them stay empty in the database.
      const recent = to.getTime() - 20 * dayMs;
      await syncOnce(own.url, sim, { windowMs: days(10), start: asMicros(recent * 1000) });
      // A held row moves 30 days back, into those empty days: a walk of them, fresh, returns it.
      const moved = sim.ledger.all().find((r) => Date.parse(`${r.created_at}Z`) > recent + dayMs)!;
      const back = new Date(Date.parse(`${moved.created_at}Z`) - 30 * dayMs).toISOString().replace("Z", "000");
      sim.ledger.update(moved.id, { created_at: back });
      const inserted = async () =>
        Number((await query(own.url, "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'transactions'"))[0].n_tup_ins);
      const before = await inserted();

      const summary = await syncOnce(own.url, sim, { windowMs: days(10) }, { full: true });
      await expectDatabaseEqualsLedger(own.url, sim);
      await expectVersionsConsistent(own.url);
      const history = await query(own.url, "SELECT change, count(*)::int AS n FROM transaction_history WHERE id = $1 GROUP BY 1", [
        moved.id,
      ]);
      expect(history).toEqual([{ change: "update", n: 1 }]);
      expect(summary.updated).toBe(1);
      // The batch holding it was inserted, refused on the key, undone and upserted: Postgres counts
      // the undone insertions too (statistics arrive once the run's sessions end).
      const fresh =
        600 - (await query(own.url, "SELECT count(*)::int AS n FROM transactions WHERE created_at >= $1", [new Date(recent)]))[0].n;
      let counted = 0;
      for (let wait = 0; wait < 50 && counted <= before + fresh; wait++) {
        counted = await inserted();
        if (counted <= before + fresh) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(counted).toBeGreaterThan(before + fresh);
    } finally {
      await sim.close();
      await own.drop();
    }
  });
});
