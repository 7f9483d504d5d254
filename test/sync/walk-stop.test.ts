// A walk stopped after its last page but while its writer is still behind must not give up before
// the writer is done: the window rolls back as the walk fails, and a write still running goes on
// with the batches queued after it on a connection back in the pool, outside any transaction (a
// soak seed found rows committed without their rollups that way: a stop 142 ms into a full run).
import { afterEach, describe, expect, test } from "@jest/globals";
import { GenerectClient } from "../../src/api/client.js";
import { InterruptedError } from "../../src/errors.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { walkWindow } from "../../src/sync/walk.js";
import { WindowWrites } from "../../src/sync/window-writes.js";
import { asMicros } from "../../src/time.js";
import { seededSimulator, testToken } from "../helpers/sync.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a walk stopped while its writer is behind", () => {
  let sim: SimulatorHandle | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  test("fails only once no write is running, and none starts after", async () => {
    sim = await seededSimulator(71, 1000, 1);
    const client = new GenerectClient({ baseUrl: sim.url, token: testToken, timeoutMs: 5_000, retries: 0 });
    const stop = new AbortController();
    const pages = 10; // 1,000 rows of 100
    let running = 0;
    const calls: { startedAfterFailure: boolean }[] = [];
    let failed = false;
    let answered = 0;
    const limit = async <T>(request: () => Promise<T>): Promise<T> => {
      const page = await request();
      // The stop comes as the last page is answered: every page is in, none was cut short.
      answered += 1;
      if (answered === pages) stop.abort(new InterruptedError("SIGTERM"));
      return page;
    };
    const sink = async (rows: unknown[]) => {
      calls.push({ startedAfterFailure: failed });
      running += 1;
      // The first batch is still being written when the stop comes.
      if (calls.length === 1) while (!stop.signal.aborted) await sleep(1);
      await sleep(30 + rows.length / 100);
      running -= 1;
    };
    const walking = walkWindow(
      client,
      { from: asMicros(0), to: asMicros(Date.now() * 1000) },
      { pageSize: 100, concurrency: 4, signal: stop.signal, sink, limit },
    );
    const failure = await walking.catch((error: unknown) => {
      failed = true;
      return { error, running };
    });
    expect(failure).toMatchObject({ error: expect.any(InterruptedError), running: 0 });
    await sleep(200);
    expect(calls.length).toBeGreaterThan(1); // the writer was behind when the stop came
    expect(calls.filter((c) => c.startedAfterFailure)).toEqual([]);
    expect(running).toBe(0);
  });
});

describe("a window's writes", () => {
  test("none starts once the window is done, and closing waits for the one running", async () => {
    const writes = new WindowWrites();
    let finished = false;
    const running = writes.run(async () => {
      await sleep(50);
      finished = true;
      return "written";
    });
    await writes.close();
    expect(finished).toBe(true);
    await expect(running).resolves.toBe("written");
    let started = false;
    await expect(
      writes.run(async () => {
        started = true;
      }),
    ).rejects.toThrow("a write reached a window whose transaction had ended: nothing written");
    expect(started).toBe(false);
  });
});
