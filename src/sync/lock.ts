import pg from "pg";
import { LockedError, SyncError } from "../errors.js";
import { runningRunSql, tryLockSql, unlockSql } from "./sql.js";

export interface AccountLock {
  /**
   * After a lost connection the session lock is gone with it: take it again on a new connection,
   * or fail if another run took it meanwhile.
   */
  reassert(): Promise<void>;
  release(): Promise<void>;
}

async function connect(databaseUrl: string): Promise<{ client: pg.Client; alive: () => boolean }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "generect-sync lock" });
  let alive = true;
  const dead = () => (alive = false);
  client.on("error", dead); // a lost lock connection is noticed by reassert(), not by a crash
  client.on("end", dead);
  await client.connect();
  return { client, alive: () => alive };
}

async function tryLock(client: pg.Client, account: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(tryLockSql, [account]);
  return rows[0]?.locked === true;
}

/**
 * A Postgres session-level advisory lock per account, held on a connection of its own for the
 * whole run: if the process dies, Postgres drops the connection and the lock with it.
 */
export async function acquireAccountLock(databaseUrl: string, account: string): Promise<AccountLock> {
  let session = await connect(databaseUrl);
  try {
    if (!(await tryLock(session.client, account))) {
      const holder = await session.client
        .query<{ id: string; started_at: Date; host: string | null; pid: number | null }>(runningRunSql, [account])
        .catch(() => ({ rows: [] }));
      const run = holder.rows[0];
      const who = run ? ` (run #${run.id}, started ${run.started_at.toISOString()} on ${run.host ?? "?"} pid ${run.pid ?? "?"})` : "";
      throw new LockedError(`another generect-sync run holds the lock for account "${account}"${who}; nothing was done`);
    }
  } catch (error) {
    await session.client.end().catch(() => {});
    throw error;
  }
  return {
    async reassert() {
      if (session.alive()) {
        const ok = await session.client.query("SELECT 1").then(() => true, () => false);
        if (ok) return;
      }
      await session.client.end().catch(() => {});
      session = await connect(databaseUrl);
      if (!(await tryLock(session.client, account))) {
        throw new SyncError("LOCK_LOST", `lost the lock for account "${account}" with the database connection, and another run holds it now`);
      }
    },
    async release() {
      await session.client.query(unlockSql, [account]).catch(() => {});
      await session.client.end().catch(() => {});
    },
  };
}
