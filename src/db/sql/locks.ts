// Advisory locks: one run per account at a time, across processes and hosts.

/** Session-level advisory lock per account: two int4 keys, a constant for this program and the account's hash. */
export const lockKey = 0x47_53_59_4e; // "GSYN"
export const tryLockSql = `SELECT pg_try_advisory_lock(${lockKey}, hashtext($1)) AS locked`;
export const unlockSql = `SELECT pg_advisory_unlock(${lockKey}, hashtext($1))`;

/**
 * Ends the backend of a lock connection of ours that this side lost while the server kept it (a
 * proxy, a NAT or a load balancer dropping the connection): alive, it holds its advisory locks
 * until the server notices (TCP keepalive: hours), and every run would find them taken. Only that
 * backend ($1, its pid): our lock connection's name, our role, older than the connection asking.
 * Waits up to 5 s for it to go (PostgreSQL 14+).
 */
export const endLostLockSessionSql = `
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE pid = $1 AND application_name = 'generect-sync lock' AND usename = current_user
  AND backend_start < (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())`;
