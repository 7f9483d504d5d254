// The chain's leaves do not depend on how the read-back formats times: a chain extended today
// equals the one computed from the encoding's own form (to_char's, which earlier releases read
// back and whose links users hold), whole seconds, trailing zeros and null updated_at included,
// under any DateStyle.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import pg from "pg";
import type { Transaction } from "../../src/api/schema.js";
import { startRun } from "../../src/job/run-record.js";
import { type ChainVersion, chainTime, extendChain, genesisDigest, leafOf, leavesOf, linkDigest } from "../../src/proofs/chain.js";
import { writeRows } from "../../src/sync/write-rows.js";
import { asMicros, parseTimestamp } from "../../src/time.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createMigratedDatabase("chain-encoding");
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
  pool.on("error", () => {}); // an idle connection the harness terminates must not crash the worker
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

test.each([
  ['"2025-01-07T13:01:15.397996"', "2025-01-07T13:01:15.397996"],
  ['"2025-01-07T13:01:15.3"', "2025-01-07T13:01:15.300000"],
  ['"2025-01-07T13:01:15.00001"', "2025-01-07T13:01:15.000010"],
  ['"2025-01-07T13:01:15"', "2025-01-07T13:01:15.000000"],
  ["2025-01-07T13:01:15.000000", "2025-01-07T13:01:15.000000"],
])("chainTime(%s) = %s", (json, expected) => {
  expect(chainTime(json)).toBe(expected);
});

// Leaves are what users' digests were computed from: these two were computed by the release before
// leaves were hashed to strings (6cad74f), and must never change.
const pinned: ChainVersion = {
  account: "acme",
  id: "00000000-0000-4000-8000-000000000001",
  version_id: "42",
  valid_from: '"2025-01-07T13:01:16.3"',
  created_at: '"2025-01-07T13:01:15"',
  updated_at: null,
  status: "success",
  balance_type: "platform",
  amount: "-1.500",
  description: 'quote " \u00e9 \u2028',
  after_balance: null,
  raw: '{"id":"x","amount":-1.500,"d":"\\u0000"}',
};
const pinnedOther: ChainVersion = { ...pinned, updated_at: '"2025-01-07T13:01:15.397996"', after_balance: "10", description: null };

test("a leaf is the same bytes as before, alone and among the leaves of a link", () => {
  expect(leafOf(pinned).toString("hex")).toBe("4e09b19a42dc0767680627bf5358cd3f645cd2da63517ddb61f99c8b790c80d8");
  expect(leafOf(pinnedOther).toString("hex")).toBe("184a6e40cf538f11a815b7795ffea84a5fc29841afca719b22ba5c6ddd061bb1");
  const leaves = leavesOf([pinned, pinnedOther, pinned]);
  expect(leaves).toEqual(Buffer.concat([leafOf(pinned), leafOf(pinnedOther), leafOf(pinned)]));
  expect(leaves.length).toBe(96);
  expect(leavesOf([]).length).toBe(0);
});

const times = ["2025-01-07T13:01:15.397996", "2025-01-07T13:01:16.300000", "2025-01-07T13:01:17.000000", "2025-01-07T13:01:18.000010"];

function transaction(n: number): Transaction {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  return {
    id,
    createdAt: parseTimestamp(times[n]!)!,
    updatedAt: n % 2 ? null : asMicros(parseTimestamp(times[n]!)! + 500_000),
    status: "success",
    balanceType: "platform",
    amount: "-1.500",
    description: n % 2 ? null : "row",
    afterBalance: n === 3 ? null : "10",
    raw: JSON.stringify({ id, n }),
  };
}

test("a window's link equals the one computed from to_char's form, whatever the session's DateStyle", async () => {
  const account = "chain-encoding";
  const runId = await startRun(pool, account, "run", undefined);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query("SET DateStyle = 'SQL, DMY'");
    await client.query("BEGIN");
    // A whole-second valid_from too: the run's seen_at.
    await writeRows(client, [0, 1, 2, 3].map(transaction), { account, runId, seenAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
    const tip = await extendChain(client, { account, runId, windowFrom: null, windowTo: null });
    await client.query("COMMIT");

    const { rows } = await client.query(
      `SELECT account, id::text, version_id::text,
              to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS valid_from,
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at,
              to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS updated_at,
              status, balance_type, amount::text, description, after_balance::text, raw
       FROM transactions WHERE account = $1 ORDER BY version_id`,
      [account],
    );
    expect(rows.map((r) => r.created_at)).toEqual(times);
    expect(rows[0].valid_from).toBe("2026-01-02T03:04:05.000000");
    expect(tip?.head_digest).toBe(linkDigest(genesisDigest, Buffer.concat(rows.map(leafOf))));
  } finally {
    await client.end();
  }
});
