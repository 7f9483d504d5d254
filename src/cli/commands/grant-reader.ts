import { loadConfig } from "../../config/index.js";
import { grantReader, readableRelations } from "../../db/grant-reader.js";
import { resolveMigratedDatabase } from "../../db/resolve.js";
import { ConfigError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";

export const grantReaderCommand: Command = {
  name: "grant-reader",
  summary: "create or update a read-only role for BI tools",
  help: `Usage: generect-sync grant-reader ROLE [--password-env VAR]

Creates ROLE (or updates one it created before) with SELECT on the BI tables and views and nothing
else: no writes, no CREATE, no access to _prisma_migrations. With --password-env, the role can log
in with the password held in that environment variable (never pass a password on the command
line), and its sessions are read-only by default. Without it, ROLE is a NOLOGIN group role to grant
to your BI users: they read through it and cannot write with it, but read-only by default is a
per-login-role setting; give it to each member: ALTER ROLE alice SET default_transaction_read_only = on

Refuses (exit 2, nothing changed) a superuser, the role it is connected as, and any existing role
it did not create (it marks its roles with a COMMENT).

Readable: ${readableRelations.join(", ")}

Environment: DATABASE_URL (a role allowed to create roles and grant on these tables)`,
  async run(argv, io) {
    const { values, positionals } = parseOptions("grant-reader", argv, { "password-env": { type: "string" } }, { positionals: "ROLE" });
    if (positionals.length !== 1) throw new ConfigError("grant-reader: give exactly one ROLE name (see generect-sync grant-reader --help)");
    const variable = values["password-env"];
    const password = variable === undefined ? undefined : io.env[variable];
    if (variable !== undefined && !password) throw new ConfigError(`grant-reader: --password-env ${variable}, but ${variable} is not set`);
    const config = loadConfig(io.env);
    const db = await resolveMigratedDatabase(config, io.note);
    try {
      const { created, serverVersion } = await grantReader(db.url, positionals[0]!, password);
      io.out(
        `${created ? "created" : "updated"} read-only role ${positionals[0]} (${password ? "can log in" : "NOLOGIN: grant it to users"})`,
      );
      if (serverVersion < 150000) {
        io.note(
          "note: before PostgreSQL 15 every role may CREATE in schema public through PUBLIC: run `REVOKE CREATE ON SCHEMA public FROM PUBLIC` if readers must not create tables",
        );
      }
      return 0;
    } finally {
      await db.close();
    }
  },
};
