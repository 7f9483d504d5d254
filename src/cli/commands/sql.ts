import type { QueryArrayResult } from "pg";
import { ConfigError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";

export const sqlCommand: Command = {
  name: "sql",
  summary: "run SQL (read-only) and print the rows, embedded Postgres included",
  help: `Usage: generect-sync sql "SELECT ..." [--json]

Runs the SQL on DATABASE_URL, or on the embedded Postgres (the one \`generect-sync db\` keeps up,
else started for the query and stopped after it), and prints the rows as a table, or as JSON with --json. Values are printed as Postgres
writes them (numeric exactly, timestamptz in UTC). Several statements separated by ; run in order.
Sessions are read-only (default_transaction_read_only), a guard against slips: use psql for
changes (generect-sync db keeps the embedded Postgres up for it).

Examples:
  generect-sync sql "SELECT day, closing_balance FROM daily_closing_balance WHERE balance_type = 'platform' ORDER BY day"
  generect-sync sql "SELECT count(*) FROM transactions WHERE account = 'demo'" --json

Environment: DATABASE_URL, GENERECT_SYNC_HOME`,
  async run(argv, io) {
    const { values, positionals } = parseOptions("sql", argv, { json: { type: "boolean" } }, { positionals: "SQL" });
    if (positionals.length !== 1 || !positionals[0]!.trim())
      throw new ConfigError('sql: give the SQL as one argument, in quotes: generect-sync sql "SELECT ..."');
    const { loadConfig } = await import("../../config/index.js");
    const { resolveMigratedDatabase } = await import("../../db/resolve.js");
    const { openSession } = await import("../../db/database.js");
    const { formatTable } = await import("../table.js");
    const config = loadConfig(io.env);
    const db = await resolveMigratedDatabase(config, io.note);
    try {
      const { client, end } = await openSession(db.url, {
        options: "-c default_transaction_read_only=on -c TimeZone=UTC",
        // Every value as the text Postgres sends: exact numerics, timestamps as written.
        types: { getTypeParser: () => (text: string) => text },
      });
      try {
        // Arrays, not objects: two columns of the same name (SELECT 1, 1) both show.
        const answer: QueryArrayResult | QueryArrayResult[] = await client.query({ text: positionals[0]!, rowMode: "array" });
        const list: QueryArrayResult[] = Array.isArray(answer) ? answer : [answer];
        const results = list.map((r) => ({
          command: r.command,
          header: r.fields.map((f) => f.name),
          rows: r.rows as (string | null)[][],
        }));
        if (values.json) {
          const objects = results
            .filter((r) => r.header.length)
            .map((r) => r.rows.map((row) => Object.fromEntries(r.header.map((name, i) => [name, row[i]]))));
          io.out(JSON.stringify(objects.length === 1 ? objects[0] : objects, null, 2));
          return 0;
        }
        for (const result of results) {
          if (!result.header.length) {
            io.out(result.command);
            continue;
          }
          for (const line of formatTable(
            result.header,
            result.rows.map((row) => row.map((v) => v ?? "")),
          ))
            io.out(line);
          io.out(`(${result.rows.length} ${result.rows.length === 1 ? "row" : "rows"})`);
        }
        return 0;
      } finally {
        await end();
      }
    } finally {
      await db.close();
    }
  },
};
