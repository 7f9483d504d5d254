// The server itself, no table: whether a connection still answers, and which version it runs.

/** The cheapest round trip: a session (the lock's, a fresh login) still answers. */
export const pingSql = "SELECT 1";

/** The server's version as a number (150004 for 15.4). */
export const serverVersionSql = "SHOW server_version_num";

/**
 * Run first in a window's transaction: no JIT compilation until it ends. The window's statements
 * are short, so compiling never pays off, but their estimated costs can pass jit_above_cost on
 * large ledgers: the daily rollups' fill (generate_series's default of 1,000 days a range)
 * compiled for 1.0 s to run for 6 ms (EXPLAIN ANALYZE, 10,000-row window).
 */
export const noJitSql = "SET LOCAL jit = off";

/**
 * The same for a session of its own (the statement command's): its month x balance type query is
 * estimated far past jit_above_cost (generate_series's default of 1,000 months times each
 * balance lookup), and on a 1M-row ledger compiled for 0.85-1.6 s to run for 1.6 s.
 */
export const sessionNoJitSql = "SET jit = off";

/**
 * A fresh window's batches are planned without their parameters' values: a plan made for them
 * carries the batch's arrays as constants, copied into the plan for each statement (the raw rows
 * alone are about 250 kB a batch), and the insert took 9.5 µs a row of its backend's CPU against
 * 7.5 with a generic plan (README, "Storage v2"). Their plans do not depend on the values: the
 * rows are inserted, or looked up by key. Only until the window's other statements: a generic plan
 * of a range read would guess at its width.
 */
export const genericPlansSql = "SET LOCAL plan_cache_mode = force_generic_plan";

/** Ends genericPlansSql: the transaction's next statements are planned for their parameters again. */
export const plansForParametersSql = "SET LOCAL plan_cache_mode = DEFAULT";

/** Opens a read-only transaction whose statements all read one snapshot (see inTransaction's `snapshot`). */
export const beginSnapshotSql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
