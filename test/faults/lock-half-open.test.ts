// The lock's connection lost on the client's side only (a proxy, a NAT or a load balancer
// dropping it), its backend still alive on the server and still holding the advisory lock.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { acquireAccountLock, LockSession } from "../../src/job/lock.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { startProxyFor, throughProxy } from "../helpers/tcp-proxy.js";

describe("a lock connection lost on the client's side only", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase("lock-half-open");
  });
  afterAll(async () => {
    await db?.drop();
  });

  test.each(["one account's lock", "a fleet's lock session"])(
    "%s: no other run exists, so reassert must not fail with LOCK_LOST",
    async (kind) => {
      const proxy = await startProxyFor(db.url);
      const url = throughProxy(db.url, proxy);
      const lock = kind === "one account's lock" ? await acquireAccountLock(url, "acct") : await new LockSession(url).acquire("acct");
      try {
        proxy.cutClients();
        await new Promise((r) => setTimeout(r, 200));
        // Nothing else in the database runs for this account: only our own orphaned backend holds the lock.
        const holders = await query<{ application_name: string }>(
          db.url,
          "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND a.datname = $1",
          [db.name],
        );
        expect(holders.map((h) => h.application_name)).toEqual(["generect-sync lock"]);
        const outcome = await lock.reassert().then(
          () => "reasserted",
          (e: Error) => `${(e as { code?: string }).code}: ${e.message}`,
        );
        expect(outcome).toBe("reasserted");
      } finally {
        await lock.release().catch(() => {});
        await proxy.close();
      }
    },
    30_000,
  );
});
