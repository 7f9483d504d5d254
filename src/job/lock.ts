import pLimit from "p-limit";
import type pg from "pg";
import { openSession, type Session } from "../db/database.js";
import { endLostLockSessionSql, tryLockSql, unlockSql } from "../db/sql/locks.js";
import { pingSql } from "../db/sql/server.js";
import { runningRunSql } from "../db/sql/sync-runs.js";
import { LockedError, SyncError } from "../errors.js";

export interface AccountLock {
  /**
   * After a lost connection the session lock is gone with it: take it again on a new connection,
   * or fail if another run took it meanwhile.
   */
  reassert(): Promise<void>;
  release(): Promise<void>;
}

/** The lock's own connection: its loss is noticed by reassert(), not by a crash. */
function connect(databaseUrl: string): Promise<Session> {
  return openSession(databaseUrl, { application_name: "generect-sync lock" });
}

async function tryLock(client: pg.Client, account: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(tryLockSql, [account]);
  return rows[0]?.locked === true;
}

/**
 * A new lock connection in place of `lost`: a connection this side lost may live on in the server,
 * holding its locks (see endLostLockSessionSql), so its backend is ended first.
 */
async function reconnect(databaseUrl: string, lost: Session | undefined): Promise<Session> {
  const pid = (lost?.client as { processID?: number | null } | undefined)?.processID;
  await lost?.end();
  const session = await connect(databaseUrl);
  if (pid) {
    try {
      await session.client.query(endLostLockSessionSql, [pid]);
    } catch (error) {
      await session.end();
      throw error;
    }
  }
  return session;
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
    await session.end();
    throw error;
  }
  return {
    async reassert() {
      if (session.alive()) {
        const ok = await session.client.query(pingSql).then(
          () => true,
          () => false,
        );
        if (ok) return;
      }
      session = await reconnect(databaseUrl, session);
      if (!(await tryLock(session.client, account))) {
        throw new SyncError(
          "LOCK_LOST",
          `lost the lock for account "${account}" with the database connection, and another run holds it now`,
        );
      }
    },
    async release() {
      await session.client.query(unlockSql, [account]).catch(() => {});
      await session.end();
    },
  };
}

/**
 * Many accounts' locks on one connection, for a fleet: a session holds any number of advisory
 * locks, so a process syncing 30 accounts at once spends one connection on their locks, not 30
 * (SYNC_DB_CONNECTIONS is the process's budget). If the connection is lost, every lock goes with
 * it: the session reconnects once, and each account's reassert() takes its own lock again on the
 * new connection (or fails with LOCK_LOST if another process took it meanwhile), as for a lock of
 * its own. The runs' end records go through this connection too (record()), not through the pool
 * the failure may have broken.
 */
export class LockSession {
  private session: Session | undefined;
  private generation = 0;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /**
   * One statement at a time on the shared connection: the fleet's accounts lock, ping and record
   * concurrently, and node-postgres deprecates queueing a query behind one in flight (it warns on
   * stderr, and a later major release refuses).
   */
  private readonly serial = pLimit(1);

  constructor(private readonly databaseUrl: string) {}

  /** `work` on the session's connection, after every statement queued before it. */
  private serially<T>(client: pg.Client, work: (client: pg.Client) => Promise<T>): Promise<T> {
    return this.serial(() => work(client));
  }

  /** The live connection and its generation (reconnecting once for all callers if it was lost). */
  private async current(): Promise<{ client: pg.Client; generation: number }> {
    while (!this.session?.alive()) {
      if (this.closed) throw new SyncError("LOCK_LOST", "the fleet's lock session is closed");
      this.connecting ??= (async () => {
        const lost = this.session;
        this.session = undefined;
        const next = await reconnect(this.databaseUrl, lost);
        this.generation += 1;
        this.session = next;
      })().finally(() => (this.connecting = undefined));
      await this.connecting;
    }
    return { client: this.session.client, generation: this.generation };
  }

  /** A query on the session's connection (the run's end record). */
  async record<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    return this.serially((await this.current()).client, work);
  }

  async acquire(account: string): Promise<AccountLock> {
    const { client, generation } = await this.current();
    if (!(await this.serially(client, (c) => tryLock(c, account)))) {
      const holder = await this.serially(client, (c) =>
        c.query<{ id: string; started_at: Date; host: string | null; pid: number | null }>(runningRunSql, [account]),
      ).catch(() => ({ rows: [] }));
      const run = holder.rows[0];
      const who = run ? ` (run #${run.id}, started ${run.started_at.toISOString()} on ${run.host ?? "?"} pid ${run.pid ?? "?"})` : "";
      throw new LockedError(`another generect-sync run holds the lock for account "${account}"${who}; nothing was done`);
    }
    let held = generation;
    return {
      reassert: async () => {
        let now = await this.current();
        if (
          now.generation === held &&
          !(await this.serially(now.client, (c) => c.query(pingSql)).then(
            () => true,
            () => false,
          ))
        ) {
          // Broken without an event yet: reconnect, unless another account already has. The old
          // client stays referenced so current() ends it: left open, it would keep holding the
          // locks taken on it, and every account's reassert on the new one would fail.
          if (this.session?.client === now.client) this.session = { ...this.session, alive: () => false };
          now = await this.current();
        }
        if (now.generation === held) return;
        if (!(await this.serially(now.client, (c) => tryLock(c, account)))) {
          throw new SyncError(
            "LOCK_LOST",
            `lost the lock for account "${account}" with the database connection, and another run holds it now`,
          );
        }
        held = now.generation;
      },
      release: async () => {
        if (this.session?.alive() && this.generation === held)
          await this.serially(this.session.client, (c) => c.query(unlockSql, [account])).catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => {});
    await this.session?.end();
  }
}
