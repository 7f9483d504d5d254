// The server itself, no table: whether a connection still answers, and which version it runs.

/** The cheapest round trip: a session (the lock's, a fresh login) still answers. */
export const pingSql = "SELECT 1";

/** The server's version as a number (150004 for 15.4). */
export const serverVersionSql = "SHOW server_version_num";
