// migrate() called in a process that goes on (the test harness, a script, a worker): it returns with
// nothing of its own still running, so a process that migrates and has nothing else to do exits at
// once. The schema engine's glue left a 10 s timer and its pool an idle connection behind.
import { describe, expect, test } from "@jest/globals";
import { migrate } from "../../src/db/migrate.js";
import { createTestDatabase } from "../helpers/database.js";

/** Timers and TCP sockets this process holds open. */
function openHandles(): Record<string, number> {
  const counts: Record<string, number> = { Timeout: 0, TCPSocketWrap: 0 };
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]! += 1;
  return counts;
}

/** Lets a socket that was ended finish closing (its handle goes on the next turns of the loop). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("migrate() as a library call", () => {
  test("leaves no timer and no connection behind, applying migrations and finding none to apply", async () => {
    const db = await createTestDatabase("migrate-handles");
    try {
      await settle();
      const before = openHandles();
      expect((await migrate(db.url)).applied.length).toBeGreaterThan(0);
      await settle();
      expect(openHandles()).toEqual(before);
      expect((await migrate(db.url)).applied).toEqual([]);
      await settle();
      expect(openHandles()).toEqual(before);
    } finally {
      await db.drop();
    }
  });
});
