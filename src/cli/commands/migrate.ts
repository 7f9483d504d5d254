import { loadConfig } from "../../config/index.js";
import { probeDatabase } from "../../db/errors.js";
import { migrate } from "../../db/migrate.js";
import { resolveDatabase } from "../../db/resolve.js";
import { type Command, parseOptions } from "../command.js";

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply the schema migrations (idempotent)",
  help: `Usage: generect-sync migrate

Applies every pending migration of prisma/migrations to DATABASE_URL (or the embedded Postgres)
and records it in _prisma_migrations, as \`prisma migrate deploy\` does, without downloading any
engine binary. Running it again applies nothing.

Environment: DATABASE_URL, GENERECT_SYNC_HOME`,
  async run(argv, io) {
    parseOptions("migrate", argv, {});
    const config = loadConfig(io.env);
    const db = await resolveDatabase(config, io.note);
    try {
      await probeDatabase(db.url);
      // resolveDatabase only starts an embedded server: what this call applies is what it reports.
      const { applied } = await migrate(db.url);
      io.out(applied.length ? `applied ${applied.length} migration(s): ${applied.join(", ")}` : "database schema is up to date");
      return 0;
    } finally {
      await db.close();
    }
  },
};
