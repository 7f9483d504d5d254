// The embedded PostgreSQL server, split by job: server.ts (lifecycle), credentials.ts (the data
// directory and its password), stray.ts (a stale postmaster.pid, /proc scanned), exit-hooks.ts (the
// dependency loaded without its process-wide handlers), helpers.ts (generic helpers).
export { CREDENTIALS_FILE } from "./credentials.js";
export { defaultDataDir, type EmbeddedPostgresHandle, type EmbeddedPostgresOptions, startEmbeddedPostgres } from "./server.js";
