import pg from "pg";

/**
 * One pg pool per process for the sync path. Numeric and timestamptz come back as text where the
 * code asks for them (`::text`), so no value ever passes through a double or a millisecond Date.
 */
export function createPool(databaseUrl: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, application_name: "generect-sync" });
  // An idle client that loses its connection (Postgres restarted) must not crash the process.
  pool.on("error", () => {});
  return pool;
}

/** Runs `work` inside BEGIN/COMMIT on one connection; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  // A checked-out client whose server goes away between two queries (a restart: the window waits
  // on the API between pages) emits 'error'; with no listener that is an uncaught exception that
  // kills the process. Note it instead: the next query fails with the connection loss, which is
  // what the caller retries on, and the broken client is discarded rather than pooled.
  let lost: Error | undefined;
  const onError = (error: Error) => void (lost ??= error);
  db.on("error", onError);
  try {
    await db.query("BEGIN");
    const result = await work(db);
    await db.query("COMMIT");
    return result;
  } catch (error) {
    await db.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    db.off("error", onError);
    db.release(lost);
  }
}
