import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import pg from "pg";
import { movedBucketsSql } from "../../src/db/sql/rollups.js";
import { genericPlansSql, plansForParametersSql } from "../../src/db/sql/server.js";
import {
  freshBatchSavepointSql,
  insertCheckedPageSql,
  insertNewPageSql,
  releaseFreshBatchSql,
  reserveVersionIdsSql,
  rollBackFreshBatchSql,
  upsertPageSql,
} from "../../src/db/sql/transactions.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { hourMs } from "../helpers/time.js";

// A fresh window's batches run under generic plans (src/db/sql/server.ts genericPlansSql): a plan
// made for a batch's parameters copies its arrays into the plan. Nothing else may: a generic plan
// of a range read guesses at its width. So between the setting and its end, a window's connection
// sends only the batches' statements, and every window that set it ends it before committing.

/** Statements a fresh window may send while it plans generically: its batches, and their upsert when a key was held. */
const batchStatements = new Set([
  freshBatchSavepointSql,
  releaseFreshBatchSql,
  rollBackFreshBatchSql,
  reserveVersionIdsSql,
  insertNewPageSql,
  insertCheckedPageSql,
  upsertPageSql,
  movedBucketsSql,
]);

type Sent = { connection: number; text: string };

/** Every statement the process sends during `work`, with the connection it went on. */
async function recorded(work: () => Promise<unknown>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const connections = new WeakMap<object, number>();
  let opened = 0;
  const original = pg.Client.prototype.query;
  const spy = jest.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    if (!connections.has(this)) connections.set(this, ++opened);
    const first = args[0] as string | { text?: string };
    sent.push({ connection: connections.get(this)!, text: typeof first === "string" ? first : (first?.text ?? "") });
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return sent;
}

/** Per connection: the statements sent while it planned generically, and whether each such span ended before its transaction did. */
function genericSpans(sent: Sent[]): { statements: string[]; endedBeforeCommit: boolean }[] {
  const open = new Map<number, string[]>();
  const spans: { statements: string[]; endedBeforeCommit: boolean }[] = [];
  for (const { connection, text } of sent) {
    const span = open.get(connection);
    if (text === genericPlansSql) {
      open.set(connection, []);
    } else if (span && text === plansForParametersSql) {
      spans.push({ statements: span, endedBeforeCommit: true });
      open.delete(connection);
    } else if (span && (text === "COMMIT" || text === "ROLLBACK")) {
      spans.push({ statements: span, endedBeforeCommit: false });
      open.delete(connection);
    } else if (span) {
      span.push(text);
    }
  }
  return spans;
}

describe("a fresh window's batches under generic plans", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("fresh_inserts");
    sim = await seededSimulator(23, 6_000, 30, { to: new Date(Date.now() - 60_000) });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("a backfill's windows set them for their batches only, and end them before their other statements", async () => {
    const sent = await recorded(() => syncOnce(db.url, sim, { windowRows: 1_500 }));
    await expectDatabaseEqualsLedger(db.url, sim);
    const spans = genericSpans(sent);
    expect(spans.length).toBeGreaterThanOrEqual(4);
    expect(spans.filter((s) => !s.endedBeforeCommit)).toEqual([]);
    const others = spans.flatMap((s) => s.statements).filter((text) => !batchStatements.has(text));
    expect(others).toEqual([]);
    expect(spans.every((s) => s.statements.includes(insertNewPageSql))).toBe(true);
  });

  test("a window that held rows plans every statement for its parameters", async () => {
    const recent = sim.ledger.all().filter((r) => Date.parse(`${r.created_at}Z`) > Date.now() - 12 * hourMs);
    for (const row of recent.slice(0, 20)) sim.ledger.update(row.id, { description: `${row.description ?? ""} (amended)` });
    const sent = await recorded(() => syncOnce(db.url, sim, { windowRows: 1_500 }));
    await expectDatabaseEqualsLedger(db.url, sim);
    expect(sent.some((s) => s.text === upsertPageSql)).toBe(true);
    expect(sent.filter((s) => s.text === genericPlansSql)).toEqual([]);
  });
});
