// The bench's Postgres CPU counts the backends of its own databases only: work in another database
// on the same server (another engineer's tests, a dashboard) is not the bench's.

import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { PostgresCpu, processCpuSeconds } from "../../src/bench/measure.js";
import { adminUrl, createTestDatabase, query, type TestDatabase } from "../helpers/database.js";

/** About a CPU-second of work for one backend. */
const burnSql = "SELECT count(*) FROM generate_series(1, 6000000) g WHERE g % 7 = 3";

describe("PostgresCpu", () => {
  let own: TestDatabase;
  let other: TestDatabase;
  let postmasterPid: number | undefined;

  beforeAll(async () => {
    own = await createTestDatabase("pgcpu-own");
    other = await createTestDatabase("pgcpu-other");
    const [dir] = await query<{ d: string }>(adminUrl(), "SELECT current_setting('data_directory') AS d");
    postmasterPid = await readFile(`${dir!.d}/postmaster.pid`, "utf8").then(
      (text) => Number(text.split("\n")[0]),
      () => undefined,
    );
  });
  afterAll(async () => {
    await own?.drop();
    await other?.drop();
  });

  test("counts a backend of its own database, not one of another database working at the same time", async () => {
    if (postmasterPid === undefined) {
      console.warn("postmaster.pid is not readable here (a remote server): nothing to measure");
      return;
    }
    const list = async () =>
      (await query<{ pid: number }>(adminUrl(), "SELECT pid FROM pg_stat_activity WHERE datname = $1", [own.name])).map((r) => r.pid);
    const ownClient = new pg.Client({ connectionString: own.url });
    const otherClient = new pg.Client({ connectionString: other.url });
    await ownClient.connect();
    await otherClient.connect();
    try {
      const idle = (await PostgresCpu.start(postmasterPid, list))!;
      const otherPid = (await otherClient.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const otherBefore = processCpuSeconds(otherPid, false)!.seconds;
      await otherClient.query(burnSql);
      const otherCpu = processCpuSeconds(otherPid, false)!.seconds - otherBefore;
      await idle.sample();
      expect(otherCpu).toBeGreaterThan(0.2);
      expect(idle.seconds()).toBeLessThan(0.05);

      const busy = (await PostgresCpu.start(postmasterPid, list))!;
      await ownClient.query(burnSql);
      await busy.sample();
      expect(busy.seconds()).toBeGreaterThan(0.2);
    } finally {
      await ownClient.end();
      await otherClient.end();
    }
  }, 60_000);
});
