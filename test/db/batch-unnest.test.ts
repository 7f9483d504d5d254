import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { insertComputedRollupsSql } from "../../src/db/sql/rollups.js";
import { insertCheckedPageSql, insertNewPageSql, upsertPageSql } from "../../src/db/sql/transactions.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";

// A batch's columns reach Postgres as arrays and are zipped into rows by unnesting them in the
// select list. ROWS FROM did the same through a Function Scan, which stores each function's whole
// output in a tuplestore before the first row goes on: a fresh batch's insert cost 11.5 µs a row
// against 8.5 (src/db/sql/transactions.ts). The plans must keep the lockstep form, and the rows
// must keep their columns together.

type PlanNode = { "Node Type": string; Plans?: PlanNode[] };
const nodeTypes = (node: PlanNode): string[] => [node["Node Type"], ...(node.Plans ?? []).flatMap(nodeTypes)];

const n = 3;
const ids = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"];
const created = ["2026-01-01T00:00:00.000001Z", "2026-01-01T00:15:00.000002Z", "2026-01-01T00:30:00.000003Z"];
const list = (values: readonly (string | number)[]) => `{${values.map((v) => JSON.stringify(String(v))).join(",")}}`;
/** $1..$12 of the page statements, each row's values distinct per column, so a shifted column shows. */
const pageParameters = (runId: string) => [
  list(ids),
  list(created),
  list(created),
  list(["success", "error", "pending"]),
  list(["platform", "company_by_link", "email"]),
  list(["-1.5", "20", "-0.25"]),
  list(["first", "second", "third"]),
  list(["98.5", "118.5", "118.25"]),
  list(ids.map((id, i) => JSON.stringify({ id, n: i }))),
  "acct",
  "2026-01-02T00:00:00Z",
  runId,
];

describe("a batch's arrays unnested in lockstep", () => {
  let db: TestDatabase;
  let runId: string;

  beforeAll(async () => {
    db = await createMigratedDatabase("batch_unnest");
    [{ id: runId }] = (await query<{ id: string }>(
      db.url,
      "INSERT INTO sync_runs (account, command, status) VALUES ('acct', 'run', 'running') RETURNING id::text AS id",
    )) as [{ id: string }];
  });
  afterAll(async () => {
    await db?.drop();
  });

  test.each([
    ["insertNewPageSql", () => insertNewPageSql, () => [...pageParameters(runId), list([1, 2, 3])]],
    ["insertCheckedPageSql", () => insertCheckedPageSql, () => [...pageParameters(runId), list([1, 2, 3])]],
    ["upsertPageSql", () => upsertPageSql, () => pageParameters(runId)],
    [
      "insertComputedRollupsSql",
      () => insertComputedRollupsSql,
      () => [
        "acct",
        list(created.map((c) => c.slice(0, 16))),
        list(["platform", "company_by_link", "email"]),
        list(["success", "error", "pending"]),
        list(["-1.5", "0", "-0.25"]),
        list([1, 0, 1]),
        list(["0", "20", "0"]),
        list([0, 1, 0]),
        list(["0", "0", "0"]),
        list([0, 0, 0]),
        list([1, 1, 1]),
        list(created),
        list(ids),
        list(["98.5", "118.5", "118.25"]),
      ],
    ],
  ])("%s: no Function Scan in its plan", async (_name, sql, parameters) => {
    const [{ "QUERY PLAN": plan }] = (await query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
      db.url,
      `EXPLAIN (FORMAT JSON) ${sql()}`,
      parameters(),
    )) as [{ "QUERY PLAN": [{ Plan: PlanNode }] }];
    const nodes = nodeTypes(plan[0].Plan);
    expect(nodes).toContain("ProjectSet");
    expect(nodes).not.toContain("Function Scan");
  });

  test("each row keeps its own columns", async () => {
    await query(db.url, insertNewPageSql, [...pageParameters(runId), list([11, 12, 13])]);
    const rows = await query(
      db.url,
      `SELECT id::text, version_id::int, status, balance_type, amount::text, description, after_balance::text, raw
       FROM transactions WHERE account = 'acct' ORDER BY created_at`,
    );
    expect(rows).toEqual(
      ids.map((id, i) => ({
        id,
        version_id: 11 + i,
        status: ["success", "error", "pending"][i],
        balance_type: ["platform", "company_by_link", "email"][i],
        amount: ["-1.5", "20", "-0.25"][i],
        description: ["first", "second", "third"][i],
        after_balance: ["98.5", "118.5", "118.25"][i],
        raw: JSON.stringify({ id, n: i }),
      })),
    );
    expect(rows).toHaveLength(n);
  });
});
