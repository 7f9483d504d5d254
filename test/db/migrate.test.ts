// migrate() called in a process that goes on (the test harness, a script, a worker): it returns with
// nothing of its own still running, so a process that migrates and has nothing else to do exits at
// once. The schema engine's glue left a 10 s timer and its pool an idle connection behind.
import { describe, expect, test } from "@jest/globals";
import { migrate } from "../../src/db/migrate.js";
import { openSchemaEngine } from "../../src/db/schema-engine.js";
import { createTestDatabase } from "../helpers/database.js";

/** Timers and TCP sockets this process holds open. */
function openHandles(): Record<string, number> {
  const counts: Record<string, number> = { Timeout: 0, TCPSocketWrap: 0 };
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]! += 1;
  return counts;
}

/**
 * Expects this process to hold no more timers and sockets than `before`, given up to 2 s: an ended
 * socket's handle goes a few turns of the loop later, more on a busy machine. What migrate() left
 * behind lived 10 s.
 */
async function expectBackTo(before: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 2000;
  let now = openHandles();
  while (!Object.keys(now).every((kind) => now[kind]! <= before[kind]!) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = openHandles();
  }
  expect(now.Timeout).toBeLessThanOrEqual(before.Timeout!);
  expect(now.TCPSocketWrap).toBeLessThanOrEqual(before.TCPSocketWrap!);
}

describe("migrate() as a library call", () => {
  test("leaves no timer and no connection behind, applying migrations and finding none to apply", async () => {
    const db = await createTestDatabase("migrate-handles");
    try {
      // What the harness opened to create the database may still be closing: counted as already there.
      const before = openHandles();
      expect((await migrate(db.url)).applied.length).toBeGreaterThan(0);
      await expectBackTo(before);
      expect((await migrate(db.url)).applied).toEqual([]);
      await expectBackTo(before);
    } finally {
      await db.drop();
    }
  });

  test("an engine closed twice is counted out once: the next one's timers are still cleared", async () => {
    const db = await createTestDatabase("migrate-close-twice");
    try {
      const before = openHandles();
      const engine = await openSchemaEngine(db.url);
      await engine.close();
      await engine.close();
      expect((await migrate(db.url)).applied.length).toBeGreaterThan(0);
      await expectBackTo(before);
    } finally {
      await db.drop();
    }
  });
});
