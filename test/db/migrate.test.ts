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
 * Whether this process holds no more timers and sockets than `before`, given up to 2 s: an ended
 * socket's handle goes a few turns of the loop later, more on a busy machine. What migrate() left
 * behind lived 10 s.
 */
async function backTo(before: Record<string, number>): Promise<Record<string, number>> {
  const deadline = Date.now() + 2000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = openHandles();
    if (Object.keys(now).every((kind) => now[kind]! <= before[kind]!) || Date.now() > deadline) return now;
  }
}

describe("migrate() as a library call", () => {
  test("leaves no timer and no connection behind, applying migrations and finding none to apply", async () => {
    const db = await createTestDatabase("migrate-handles");
    try {
      // What the harness opened to create the database may still be closing: counted as already there.
      const before = openHandles();
      expect((await migrate(db.url)).applied.length).toBeGreaterThan(0);
      const applied = await backTo(before);
      expect(applied.Timeout).toBeLessThanOrEqual(before.Timeout!);
      expect(applied.TCPSocketWrap).toBeLessThanOrEqual(before.TCPSocketWrap!);
      expect((await migrate(db.url)).applied).toEqual([]);
      const upToDate = await backTo(before);
      expect(upToDate.Timeout).toBeLessThanOrEqual(before.Timeout!);
      expect(upToDate.TCPSocketWrap).toBeLessThanOrEqual(before.TCPSocketWrap!);
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
      const after = await backTo(before);
      expect(after.Timeout).toBeLessThanOrEqual(before.Timeout!);
      expect(after.TCPSocketWrap).toBeLessThanOrEqual(before.TCPSocketWrap!);
    } finally {
      await db.drop();
    }
  });
});
