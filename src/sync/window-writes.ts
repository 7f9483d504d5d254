/**
 * The writes of one window's transaction, each a chain of statements on the window's connection.
 * Once the window is done, none may start, and the window waits for any still running before its
 * COMMIT or ROLLBACK: a write left running would issue its next statements on a connection back in
 * the pool, outside any transaction, committing rows without their rollups or chain links. The
 * walks settle their writers before they fail (walk.ts); this holds the window to it whatever a
 * walk does.
 */
export class WindowWrites {
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;

  /** Runs `write` unless the window is done (then it fails, writing nothing). */
  run<T>(write: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("a write reached a window whose transaction had ended: nothing written"));
    const running = write();
    this.#running.add(running);
    const done = () => void this.#running.delete(running);
    running.then(done, done);
    return running;
  }

  /** No write starts from now on; resolves once none is running. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
