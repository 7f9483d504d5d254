// The statement shows the last judged users/me checkpoint. It judges that one alone
// (checkLastCheckpoint), where verify judges every checkpoint (checkCheckpoints): both must name
// the same checkpoint with the same verdict, whichever checkpoints disagree, are missing, or lie
// after the watermark.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { checkCheckpoints, checkLastCheckpoint } from "../../src/proofs/checkpoint.js";
import { addDecimals, JsonNumber, type SimulatorHandle, USERS_ME_PATH } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { seededSimulator, syncOnce } from "../helpers/sync.js";

describe("the last judged checkpoint, judged alone", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createMigratedDatabase("last_checkpoint");
    sim = await seededSimulator(63, 400, 20);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await sim?.close();
    await db?.drop();
  });

  /** The last judged checkpoint both ways, after checking they agree. */
  async function lastOfBoth() {
    const all = await checkCheckpoints(client, "acct");
    const last = await checkLastCheckpoint(client, "acct");
    expect(last).toEqual({ captured: all.captured, lastJudged: all.lastJudged });
    return last;
  }

  test("agrees with verify's judgement as checkpoints agree, differ, fail and follow the watermark", async () => {
    expect(await lastOfBoth()).toEqual({ captured: 0, lastJudged: null });

    await syncOnce(db.url, sim);
    const first = await lastOfBoth();
    expect(first.lastJudged).toMatchObject({ agrees: true });

    sim.faults.transformUsersMe = (body) => ({ ...body, balance_platform: new JsonNumber("-99.5") });
    await syncOnce(db.url, sim);
    sim.faults.transformUsersMe = undefined;
    const differing = await lastOfBoth();
    expect(differing).toMatchObject({ captured: 2, lastJudged: { agrees: false } });
    expect(differing.lastJudged!.capturedAt > first.lastJudged!.capturedAt).toBe(true);

    // A failing users/me is recorded as missing: the last judged one stays the differing one.
    sim.faults.intercept = ({ path }) => (path === USERS_ME_PATH ? { status: 503, body: '{"detail":"down"}' } : undefined);
    await syncOnce(db.url, sim);
    sim.faults.intercept = undefined;
    expect(await lastOfBoth()).toEqual(differing);

    // A checkpoint captured after the watermark is not judged, even as the highest id.
    await query(
      db.url,
      `WITH c AS (INSERT INTO balance_checkpoints (account, captured_at, outcome) VALUES ('acct', now() + interval '1 hour', 'captured') RETURNING id)
       INSERT INTO balance_checkpoint_values (checkpoint_id, field, value) SELECT id, 'balance_platform', 1 FROM c`,
    );
    expect(await lastOfBoth()).toEqual({ ...differing, captured: 3 });

    await syncOnce(db.url, sim);
    const agreeing = await lastOfBoth();
    expect(agreeing).toMatchObject({ captured: 4, lastJudged: { agrees: true } });
    expect(agreeing.lastJudged!.capturedAt > differing.lastJudged!.capturedAt).toBe(true);
  });

  test("a balance agrees when the ledger held it at any instant from the request to the answer, both ends included: rows sharing an instant count, deleted rows do not, and a checkpoint without received_at is judged at captured_at alone", async () => {
    const type = "email_verifier";
    const before = sim.ledger.all().find((r) => r.balance_type === type)?.after_balance ?? "0";
    const naive = (ms: number) => `${new Date(ms).toISOString().slice(0, 23).replace("Z", "")}000`;
    const at = Date.now() - 5000; // after every row of the ledger, before the runs below
    const row = (ms: number, amount: string, after: string) =>
      sim.ledger.add({ created_at: naive(ms), balance_type: type, amount, after_balance: addDecimals(before, after) });
    const first = row(at, "-1", "-1");
    const second = row(at, "-2", "-3"); // the same instant
    const deleted = row(at + 1000, "-4", "-7");
    await syncOnce(db.url, sim);
    sim.ledger.remove(deleted.id);
    const last = row(at + 2000, "-1", "-4");
    await syncOnce(db.url, sim);
    expect((await query(db.url, `SELECT 1 FROM transactions WHERE id = $1 AND deleted_at IS NOT NULL`, [deleted.id])).length).toBe(1);

    // captured_at and received_at as offsets from the first row's instant (null: not recorded).
    const cases: { captured: string; received: string | null; value: string; agrees: boolean }[] = [
      { captured: "-1 microsecond", received: "0", value: before, agrees: true }, // the balance at the request
      { captured: "-1 microsecond", received: "0", value: first.after_balance, agrees: true }, // a row at the answer's instant
      { captured: "-1 microsecond", received: "0", value: second.after_balance, agrees: true }, // and one sharing it
      { captured: "-2 microseconds", received: "-1 microsecond", value: first.after_balance, agrees: false }, // created after the answer
      { captured: "-1 microsecond", received: null, value: first.after_balance, agrees: false }, // judged at captured_at alone
      { captured: "0.5 seconds", received: "1.5 seconds", value: deleted.after_balance, agrees: false }, // a row deleted since
      { captured: "0.5 seconds", received: "2 seconds", value: last.after_balance, agrees: true },
      { captured: "2 seconds", received: "3 seconds", value: second.after_balance, agrees: false }, // held before the request
      { captured: "2 seconds", received: "3 seconds", value: last.after_balance, agrees: true }, // a row at the request's instant
    ];
    const ids: string[] = [];
    for (const c of cases) {
      const [inserted] = await query<{ id: string }>(
        db.url,
        `WITH c AS (
           INSERT INTO balance_checkpoints (account, captured_at, received_at, outcome)
           VALUES ('acct', ($1::timestamp AT TIME ZONE 'UTC') + $2::interval, ($1::timestamp AT TIME ZONE 'UTC') + $3::interval, 'captured')
           RETURNING id)
         INSERT INTO balance_checkpoint_values (checkpoint_id, field, value) SELECT id, $4, $5::numeric FROM c RETURNING checkpoint_id::text AS id`,
        [first.created_at, c.captured, c.received, `balance_${type}`, c.value],
      );
      ids.push(inserted!.id);
    }
    const { differing } = await checkCheckpoints(client, "acct");
    expect(ids.map((id) => !differing.some((d) => d.checkpoint === id))).toEqual(cases.map((c) => c.agrees));
    expect((await lastOfBoth()).lastJudged).toMatchObject({ agrees: true });
  });
});
