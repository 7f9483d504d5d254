// The lock's connection lost on the client's side only (a proxy, a NAT or a load balancer
// dropping it), its backend still alive on the server and still holding the advisory lock.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { acquireAccountLock, LockSession } from "../../src/job/lock.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";

/** Forwards to Postgres; cut() drops the client-facing sockets and keeps the server-facing ones open. */
async function halfOpenProxy(targetUrl: string) {
  const target = new URL(targetUrl);
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  const server = net.createServer((client) => {
    clients.add(client);
    client.on("error", () => {});
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    upstreams.add(upstream);
    upstream.on("error", () => {});
    client.pipe(upstream, { end: false });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    cut() {
      for (const c of clients) {
        c.unpipe();
        c.destroy();
      }
      clients.clear();
    },
    async close() {
      for (const s of [...clients, ...upstreams]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

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
      const proxy = await halfOpenProxy(db.url);
      const lock =
        kind === "one account's lock" ? await acquireAccountLock(proxy.url, "acct") : await new LockSession(proxy.url).acquire("acct");
      try {
        proxy.cut();
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
