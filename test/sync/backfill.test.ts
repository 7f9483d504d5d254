import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Ledger, type SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, startTestSimulator, syncOnce, syncRuns, watermark } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

describe("first backfill over several windows", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const to = new Date(Date.now() - 60_000);

  beforeAll(async () => {
    db = await createMigratedDatabase("backfill");
    sim = await seededSimulator(7, 1500, 120, { to });
    // 3,000 one-cent charges on one day: their sum must come out as exactly -30, not -29.99999999.
    const centDay = new Date(to.getTime() - 40 * dayMs);
    for (let i = 0; i < 3000; i++)
      sim.ledger.add({ created_at: new Date(centDay.getTime() + i * 1000), amount: "-0.01", balance_type: "platform", status: "success" });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("the database equals the simulator's ledger, every field, every amount", async () => {
    const summary = await syncOnce(db.url, sim, { windowMs: days(30) });
    expect(summary.windows).toBeGreaterThanOrEqual(4);
    expect(summary.inserted).toBe(sim.ledger.size);
    expect(summary.updated).toBe(0);
    expect(summary.unchanged).toBe(0);
    await expectDatabaseEqualsLedger(db.url, sim);

    const [cents] = await query<{ total: string; n: string }>(
      db.url,
      `SELECT sum(amount)::text AS total, count(*)::text AS n FROM transactions WHERE amount = -0.01`,
    );
    const expectedCents = sim.ledger.all().filter((r) => r.amount === "-0.01").length;
    expect(cents!.n).toBe(String(expectedCents));
    expect(cents!.total).toBe(`-${(expectedCents / 100).toFixed(2)}`);

    const [types] = await query<{ amount: string; after_balance: string; created_at: string }>(
      db.url,
      `SELECT format_type(atttypid, atttypmod) AS amount FROM pg_attribute WHERE attrelid = 'transactions'::regclass AND attname = 'amount'`,
    );
    expect(types!.amount).toBe("numeric");
  });

  test("raw holds the row exactly as sent and every row has one insert version", async () => {
    const [counts] = await query<{ versions: string; rows: string; inserts: string }>(
      db.url,
      `SELECT (SELECT count(*) FROM transaction_versions)::text AS versions,
              (SELECT count(*) FROM transactions)::text AS rows,
              (SELECT count(*) FROM transaction_versions WHERE change = 'insert')::text AS inserts`,
    );
    expect(counts!.versions).toBe(String(sim.ledger.size));
    expect(counts!.inserts).toBe(String(sim.ledger.size));
    const sample = sim.ledger.all()[17]!;
    const [row] = await query<{ raw: string }>(db.url, `SELECT raw FROM transactions WHERE id = $1`, [sample.id]);
    expect(row!.raw).toBe(sim.ledger.served(sample)); // the served text, byte for byte
    expect(JSON.parse(row!.raw).created_at).toBe(sample.created_at);
  });

  test("sync_runs and the watermark tell the truth", async () => {
    const [run] = await syncRuns(db.url);
    expect(run).toMatchObject({
      status: "succeeded",
      rows_inserted: sim.ledger.size,
      rows_updated: 0,
      rows_unchanged: 0,
      error_message: null,
    });
    expect(run!.windows_walked).toBeGreaterThanOrEqual(4);
    expect(run!.api_requests).toBeGreaterThan(run!.pages);
    expect(run!.rows_seen).toBe(sim.ledger.size);
    const mark = await watermark(db.url);
    expect(mark).toBeDefined();
    expect(new Date(`${mark}Z`).getTime()).toBeGreaterThan(to.getTime());
  });

  test("the pages walked were full max_limit pages and offsets were computed", async () => {
    const [run] = await syncRuns(db.url);
    // Each window: its pages, plus the count re-read at the end; plus two requests to find the oldest
    // row and the users/me balance checkpoint.
    expect(run!.api_requests).toBe(run!.pages + run!.windows_walked + 3);
    expect(run!.pages).toBeLessThanOrEqual(Math.ceil(sim.ledger.size / 100) + run!.windows_walked);
  });
});

describe("text that array literals must escape", () => {
  // The loader sends each column as one Postgres array literal and the raw rows as one JSON array;
  // a quote, a backslash, a comma, a brace or the word NULL inside a value must arrive as itself.
  const awkward = ['say "hi"', "C:\\temp\\", "a,b", "{x}", "NULL", "", " padded ", "tab\there", "line\nbreak", "naïve ☕ 🚀", '\\"'];
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("backfill-escapes");
    const ledger = new Ledger();
    const start = Date.now() - 10 * dayMs;
    awkward.forEach((text, i) => {
      ledger.add({ created_at: new Date(start + i * 60_000), description: text, balance_type: `type ${text}`, status: "success" });
    });
    sim = await startTestSimulator({ ledger });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("inserted, then updated, every value equals the API's", async () => {
    const first = await syncOnce(db.url, sim, { windowMs: days(30) });
    expect(first.inserted).toBe(awkward.length);
    await expectDatabaseEqualsLedger(db.url, sim);
    const stored = await query<{ description: string; raw_description: string }>(
      db.url,
      `SELECT description, raw::jsonb->>'description' AS raw_description FROM transactions ORDER BY created_at`,
    );
    expect(stored.map((r) => r.description)).toEqual(awkward);
    expect(stored.map((r) => r.raw_description)).toEqual(awkward);

    // The same texts reversed over the same ids: the upsert path, with versions.
    const oldestFirst = [...sim.ledger.all()].sort((a, b) => a.created_at.localeCompare(b.created_at));
    for (const [i, row] of oldestFirst.entries()) sim.ledger.update(row.id, { description: awkward[awkward.length - 1 - i]! });
    const second = await syncOnce(db.url, sim, { windowMs: days(30), lookbackMs: days(30) });
    expect(second).toMatchObject({ inserted: 0, updated: awkward.length });
    await expectDatabaseEqualsLedger(db.url, sim);
    const [versions] = await query<{ n: string }>(
      db.url,
      `SELECT count(*)::text AS n FROM transaction_versions WHERE description = ANY($1::text[])`,
      [awkward],
    );
    expect(Number(versions!.n)).toBe(2 * awkward.length);
  });
});
