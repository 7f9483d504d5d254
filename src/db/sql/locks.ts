// Advisory locks: one run per account at a time, across processes and hosts.

/** Session-level advisory lock per account: two int4 keys, a constant for this program and the account's hash. */
export const lockKey = 0x47_53_59_4e; // "GSYN"
export const tryLockSql = `SELECT pg_try_advisory_lock(${lockKey}, hashtext($1)) AS locked`;
export const unlockSql = `SELECT pg_advisory_unlock(${lockKey}, hashtext($1))`;
