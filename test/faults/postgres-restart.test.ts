// Scenario 3: Postgres restarted in the middle of a run, for real. A dedicated embedded PostgreSQL
// 18 is stopped (fast shutdown: every connection is terminated, the open window's transaction
// rolls back, the account lock's session dies with it) after a few pages, and started again on the
// same port and data directory about 2 s later. The sync retries the window on connection loss
// (withConnectionRetry) and re-takes the lock (lock.reassert()). The job is the real CLI in a child
// process (under Jest, errors raised by Node's own net module come from another realm and are not
// `instanceof Error` inside the test's sandbox, which p-retry insists on: in-process runs would
// test Jest, not the job).
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { passwordOf } from "../../src/config/database-url.js";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "../../src/db/embedded/index.js";
import { migrate } from "../../src/db/migrate.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns } from "../helpers/sync.js";
import { cli, expectFirstRunTruthful, expectVersionsConsistent, guardCliOutput, registerSecret, sleep, testToken } from "./support.js";

guardCliOutput();

describe("Postgres restarted mid-run", () => {
  let home: string;
  let server: EmbeddedPostgresHandle;
  let sim: SimulatorHandle;
  let outageDone: Promise<void> | undefined;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "gs-faults-pg-"));
    await chmod(home, 0o755); // as root the server runs as "postgres", which must enter the directory
    server = await startEmbeddedPostgres({ dataDir: path.join(home, "pg") });
    registerSecret(passwordOf(server.url)!); // the generated password must not show in the job's output
    await migrate(server.url);
    sim = await seededSimulator(301, 1500, 60, { faults: { latencyMs: 10 } });
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await outageDone?.catch(() => {});
    await server?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test("a ~2 s outage: the window in hand is retried, the lock re-taken, the run succeeds and the database equals the ledger", async () => {
    let pages = 0;
    let outage: Promise<void> | undefined;
    const events: string[] = [];
    sim.faults.beforePage = async ({ query }) => {
      if (!query.has("created_at__gte") || outage || ++pages < 8) return;
      // Stop it now (this page is answered once the server is down), start it again ~2 s later.
      const { port, dataDir } = server;
      let down!: () => void;
      const isDown = new Promise<void>((resolve) => (down = resolve));
      outage = (async () => {
        const stopped = Date.now();
        await server.stop();
        events.push("stopped");
        down();
        await sleep(2_000);
        server = await startEmbeddedPostgres({ dataDir, port });
        events.push(`restarted after ${Date.now() - stopped} ms`);
      })();
      outageDone = outage;
      await isDown;
    };
    const env = {
      DATABASE_URL: server.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_WINDOW: "7d",
    };
    const result = await cli(["run"], env).done;
    await outage;
    sim.faults.beforePage = undefined;
    if (result.code !== 0) throw new Error(`run failed (${result.code}):\n${result.stderr.slice(-3000)}`);
    expect(events).toEqual(["stopped", expect.stringMatching(/^restarted after \d+ ms$/)]);
    expect(result.stderr).toContain("lost the database connection: retrying the window");
    expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, stderr: "" });

    await expectDatabaseEqualsLedger(server.url, sim);
    await expectVersionsConsistent(server.url);
    const all = await syncRuns(server.url);
    expect(all).toHaveLength(1);
    // The counters were added in the committed windows' transactions only: the rolled-back attempt
    // counts nothing, the retried window counts once.
    await expectFirstRunTruthful(server.url, all[0]!);
    expect(all[0]!.rows_inserted).toBe(sim.ledger.size);
  }, 120_000);
});
