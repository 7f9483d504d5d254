import { ConfigError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";

export const dbCommand: Command = {
  name: "db",
  summary: "keep the embedded Postgres up until Ctrl-C, for psql and BI tools",
  help: `Usage: generect-sync db

The embedded Postgres (used without DATABASE_URL) runs only while a command does: once \`run\` or
\`demo\` exits, nothing listens. This command starts it (data in GENERECT_SYNC_HOME), migrates it,
prints how to connect, and keeps it up until Ctrl-C (SIGINT) or SIGTERM, then stops it cleanly
(exit 0). In another terminal:

  psql "$(cat .generect-sync/database-url)"

For one query without keeping a server up: generect-sync sql "SELECT ..."

While it runs, the other commands (run, status, sql, ...) use the server it keeps up.

Environment: GENERECT_SYNC_HOME (with DATABASE_URL set, your own server is already up: nothing to do)`,
  async run(argv, io) {
    parseOptions("db", argv, {});
    const { loadConfig } = await import("../../config/index.js");
    const config = loadConfig(io.env);
    if (config.databaseUrl) {
      throw new ConfigError(
        'db: DATABASE_URL is set, so there is no embedded Postgres to keep up: connect to your server with psql "$DATABASE_URL"',
      );
    }
    const { keepUp, resolveMigratedDatabase } = await import("../../db/resolve.js");
    const { onShutdownSignal } = await import("../signals.js");
    // Taken before the server starts: a Ctrl-C during the start still stops it cleanly.
    const signals = onShutdownSignal();
    try {
      const db = await resolveMigratedDatabase(config, io.note);
      if (db.keptBy !== undefined) {
        throw new ConfigError(
          `db: generect-sync db (pid ${db.keptBy}) already keeps this embedded Postgres up: connect with psql "$(cat ${db.urlFile})"`,
        );
      }
      const release = await keepUp(config);
      try {
        const port = new URL(db.url).port;
        // One write: a reader (a person, a script waiting for "is up") sees how to connect with it.
        io.out(
          `embedded Postgres is up on 127.0.0.1:${port} until Ctrl-C. Connect from another terminal with:\n` +
            `  psql "$(cat ${db.urlFile})"\n` +
            `(the URL holds the password: it is in ${db.urlFile}, mode 0600, never printed)`,
        );
        if (!signals.signal.aborted) await new Promise((resolve) => signals.signal.addEventListener("abort", resolve, { once: true }));
        io.note("stopping the embedded Postgres");
      } finally {
        await release();
        await db.close();
      }
      return 0;
    } finally {
      signals.dispose();
    }
  },
};
