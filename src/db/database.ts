import pg from "pg";
import { beginSnapshotSql } from "./sql/server.js";

/**
 * The one way into Postgres: only this folder constructs a pg client or pool (the dependency rule
 * checks it). A Database owns a pool for the statements of a command (or of a worker's whole life,
 * across its ticks); `session()` opens a dedicated connection for what a pooled one cannot carry
 * (a session-level advisory lock, a record written beside a pool the failure may have broken).
 * Numeric and timestamptz come back as text where the code asks for them (`::text`), so no value
 * ever passes through a double or a millisecond Date.
 */

/** What a statement needs: a pool, a pooled client or a session. */
export type Queryable = Pick<pg.ClientBase, "query">;

/** Extra settings of a dedicated session (timeouts for a probe, a name seen in pg_stat_activity, server options, type parsers). */
export type SessionOptions = Pick<pg.ClientConfig, "application_name" | "connectionTimeoutMillis" | "query_timeout" | "options" | "types">;

/** A dedicated connection and whether it still lives (an 'error' or 'end' event marks it dead instead of crashing the process). */
export interface Session {
  client: pg.Client;
  alive(): boolean;
  /** Ends the connection; never throws. */
  end(): Promise<void>;
}

export class Database {
  readonly url: string;
  /** The pool itself, for the statements that take one (pg.Pool's query checks a client out and back). */
  readonly pool: pg.Pool;

  /** `max`: connections the pool may open (the fleet's share of SYNC_DB_CONNECTIONS). */
  constructor(url: string, options: { max?: number; applicationName?: string } = {}) {
    this.url = url;
    this.pool = new pg.Pool({ connectionString: url, max: options.max ?? 4, application_name: options.applicationName ?? "generect-sync" });
    // An idle client that loses its connection (Postgres restarted) must not crash the process.
    this.pool.on("error", () => {});
  }

  /** One statement on a pooled connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Runs `work` on one pooled connection, released afterwards (discarded if its connection was lost). */
  async withClient<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return withPooledClient(this.pool, work);
  }

  /** Runs `work` inside BEGIN/COMMIT on one pooled connection; rolls back on any error. */
  inTransaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  /** A dedicated connection of this database, outside the pool (see openSession). */
  session(options: SessionOptions = {}): Promise<Session> {
    return openSession(this.url, options);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}

async function withPooledClient<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  // A checked-out client whose server goes away between two queries (a restart: the window waits
  // on the API between pages) emits 'error'; with no listener that is an uncaught exception that
  // kills the process. Note it instead: the next query fails with the connection loss, which is
  // what the caller retries on, and the broken client is discarded rather than pooled.
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  db.on("error", onError);
  try {
    return await work(db);
  } finally {
    db.off("error", onError);
    db.release(lost);
  }
}

export interface TransactionOptions {
  /**
   * One snapshot for every statement, read only (REPEATABLE READ): a reader that compares several
   * reads (the proofs chain against its links) sees no writer's commit between them.
   */
  snapshot?: boolean;
}

/**
 * Runs `work` inside BEGIN/COMMIT; rolls back on any error. Given a pool, on one connection checked
 * out for it; given a client (a session), on that client.
 */
export async function inTransaction<T>(db: pg.Pool, work: (db: pg.PoolClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
export async function inTransaction<T, C extends pg.ClientBase>(
  db: C,
  work: (db: C) => Promise<T>,
  options?: TransactionOptions,
): Promise<T>;
// One body serves both overloads: `work` gets the very client given, or one checked out of the pool.
export async function inTransaction<T>(
  db: pg.Pool | pg.ClientBase,
  // biome-ignore lint/suspicious/noExplicitAny: see above
  work: (db: any) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  if (db instanceof pg.Pool) return withPooledClient(db, (client) => inTransaction(client, work, options));
  await db.query(options.snapshot ? beginSnapshotSql : "BEGIN");
  try {
    const result = await work(db);
    await db.query("COMMIT");
    return result;
  } catch (error) {
    await db.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Opens a dedicated connection; its loss is noted (alive() turns false), never thrown at the process. */
export async function openSession(url: string, options: SessionOptions = {}): Promise<Session> {
  const client = new pg.Client({ connectionString: url, application_name: "generect-sync", ...options });
  let alive = true;
  const dead = () => (alive = false);
  client.on("error", dead);
  client.on("end", dead);
  await client.connect();
  return { client, alive: () => alive, end: () => client.end().catch(() => {}) };
}

/** Runs `work` on a dedicated connection opened for it, closed whatever happens. */
export async function withSession<T>(url: string, work: (client: pg.Client) => Promise<T>, options: SessionOptions = {}): Promise<T> {
  const session = await openSession(url, options);
  try {
    return await work(session.client);
  } finally {
    await session.end();
  }
}
