import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncRuns, testToken } from "../helpers/sync.js";

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("generect-sync worker", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;
  const runs = () => syncRuns(db.url);

  beforeAll(async () => {
    db = await createMigratedDatabase("worker");
    sim = await seededSimulator(61, 800, 40);
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_CRON: "* * * * * *",
      SNAPSHOT_CRON: "*/3 * * * * *",
      SYNC_TIMEZONE: "Europe/Berlin",
    };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("runs both schedules, never overlapping, two workers serialised by the lock, and stops on SIGTERM", async () => {
    // Slow pages so passes last longer than the one-second schedule.
    sim.faults.beforePage = () => new Promise((resolve) => setTimeout(resolve, 150));
    const workers = [spawnCli(["worker"], env), spawnCli(["worker"], env)];
    await until(
      async () => {
        const rows = await runs();
        return (
          rows.filter((r) => r.command === "run" && r.status === "succeeded").length >= 2 &&
          rows.some((r) => r.command === "snapshot" && r.status === "succeeded")
        );
      },
      40_000,
      "two sync passes and a snapshot pass",
    );

    const stopped = Date.now();
    for (const w of workers) w.child.kill("SIGTERM");
    const results = await Promise.all(workers.map((w) => w.done));
    expect(Date.now() - stopped).toBeLessThan(10_000);
    for (const r of results) {
      expect(r.code).toBe(143);
      expect(r.stdout + r.stderr).not.toContain(testToken);
    }
    sim.faults.beforePage = undefined;

    const all = await runs();
    expect(all.every((r) => r.status !== "running")).toBe(true);
    // No two passes of the account overlap in time: the lock serialised both workers.
    const done = all.filter((r) => r.finished_at).sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    for (let i = 1; i < done.length; i++) expect(done[i]!.started_at.getTime()).toBeGreaterThanOrEqual(done[i - 1]!.finished_at!.getTime());
    const output = results.map((r) => r.stderr).join("");
    expect(output).toMatch(/"msg":"worker started"/);
    expect(output).toMatch(/skipped: (another generect-sync run holds the lock|the previous pass is still running)/);
    expect(output).toMatch(/"runId":"\d+"/);

    const final = await runCli(["run"], { ...env });
    expect(final.code).toBe(0);
    await expectDatabaseEqualsLedger(db.url, sim);
  }, 90_000);

  test("SIGTERM in the middle of a pass rolls the window back and marks the run interrupted", async () => {
    let parked = false;
    // Every page of a window hangs, not only the first: a first page parked alone may belong to a walk
    // started ahead that the pass then cancels, and the pass would end, succeeded, before the signal.
    sim.faults.beforePage = ({ query: q }) => {
      if (!q.has("created_at__gte")) return;
      parked = true;
      return new Promise<void>((resolve) => void setTimeout(resolve, 60_000).unref());
    };
    const worker = spawnCli(["worker"], { ...env, SYNC_LOOKBACK: "60d", SNAPSHOT_CRON: "0 0 1 1 *" });
    await until(async () => (await runs()).some((r) => r.status === "running"), 20_000, "a pass to start");
    await until(async () => parked, 10_000, "the pass to reach a page");
    const stopped = Date.now();
    worker.child.kill("SIGTERM");
    const result = await worker.done;
    expect(result.code).toBe(143);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    const last = (await runs()).at(-1)!;
    expect(last).toMatchObject({ status: "interrupted" });
    expect(last.finished_at).not.toBeNull();
    sim.faults.beforePage = undefined;
  }, 60_000);

  test("one pool serves the worker's passes: a connection of one pass serves the next one too", async () => {
    sim.faults.beforePage = () => new Promise((resolve) => setTimeout(resolve, 100));
    const worker = spawnCli(["worker"], { ...env, SNAPSHOT_CRON: "0 0 1 1 *", VERIFY_CRON: "0 0 1 1 *" });
    // Which passes each of the worker's pooled backends was seen serving (the lock has a name of its own).
    const served = new Map<number, Set<string>>();
    const before = Number((await query<{ id: string }>(db.url, "SELECT coalesce(max(id), 0)::text AS id FROM sync_runs"))[0]!.id);
    try {
      await until(
        async () => {
          const [sample] = await query<{ run: string | null; pids: number[] | null }>(
            db.url,
            `SELECT (SELECT id::text FROM sync_runs WHERE status = 'running' AND id > $1 ORDER BY id DESC LIMIT 1) AS run,
                  (SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'generect-sync') AS pids`,
            [before],
          );
          if (sample?.run) for (const pid of sample.pids ?? []) served.set(pid, (served.get(pid) ?? new Set()).add(sample.run));
          const rows = await runs();
          return rows.filter((r) => Number(r.id) > before && r.command === "run" && r.status === "succeeded").length >= 3;
        },
        60_000,
        "three sync passes of one worker",
      );
    } finally {
      worker.child.kill("SIGTERM");
      await worker.done;
      sim.faults.beforePage = undefined;
    }
    // A pool per pass (ended with it) would leave every backend with one pass at most.
    expect(Math.max(...[...served.values()].map((passes) => passes.size))).toBeGreaterThanOrEqual(2);
  }, 90_000);

  test("a bad cron expression is refused at start, naming the variable", async () => {
    const result = await runCli(["worker"], { ...env, SYNC_CRON: "61 * * * *" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SYNC_CRON="61 * * * *" is not a cron expression (minute: 61 is a invalid expression for minute)');
    const other = await runCli(["worker"], { ...env, SNAPSHOT_CRON: "daily" });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("SNAPSHOT_CRON");
  });
});
