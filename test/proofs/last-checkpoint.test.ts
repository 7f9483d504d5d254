// The statement shows the last judged users/me checkpoint. It judges that one alone
// (checkLastCheckpoint), where verify judges every checkpoint (checkCheckpoints): both must name
// the same checkpoint with the same verdict, whichever checkpoints disagree, are missing, or lie
// after the watermark.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { checkCheckpoints, checkLastCheckpoint } from "../../src/proofs/checkpoint.js";
import { JsonNumber, type SimulatorHandle, USERS_ME_PATH } from "../../src/simulator/index.js";
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
});
