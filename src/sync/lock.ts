import pg from "pg";
import { LockedError } from "../errors.js";
import { runningRunSql, tryLockSql, unlockSql } from "./sql.js";

export interface AccountLock {
  release(): Promise<void>;
}

/**
 * A Postgres session-level advisory lock per account, held on a connection of its own for the
 * whole run: if the process dies, Postgres drops the connection and the lock with it.
 */
export async function acquireAccountLock(databaseUrl: string, account: string): Promise<AccountLock> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "generect-sync lock" });
  client.on("error", () => {}); // a lost lock connection surfaces as a failed query of the run itself
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>(tryLockSql, [account]);
    if (!rows[0]?.locked) {
      const holder = await client.query<{ id: string; started_at: Date; host: string | null; pid: number | null }>(runningRunSql, [account]).catch(() => ({ rows: [] }));
      const run = holder.rows[0];
      const who = run ? ` (run #${run.id}, started ${run.started_at.toISOString()} on ${run.host ?? "?"} pid ${run.pid ?? "?"})` : "";
      throw new LockedError(`another generect-sync run holds the lock for account "${account}"${who}; nothing was done`);
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return {
    async release() {
      await client.query(unlockSql, [account]).catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
