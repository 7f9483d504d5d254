import { loadConfig } from "../../config/index.js";
import { withSession } from "../../db/database.js";
import { resolveMigratedDatabase } from "../../db/resolve.js";
import { ConfigError } from "../../errors.js";
import { isDate } from "../../snapshots/days.js";
import { reconcile } from "../../snapshots/reconcile.js";
import { type Command, parseOptions } from "../command.js";

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "compare Generect's daily spend with the ledger's",
  help: `Usage: generect-sync reconcile [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--tolerance 0.000001] [--json]

Compares, per local day in SYNC_TIMEZONE, the spend Generect reported (spent_credits_daily) with
the ledger's (success charges, from the daily rollups the sync keeps in that zone) over the captured days whose ledger is complete,
and prints the days that differ by more than the tolerance, or "ledger agrees with Generect on N
days". Exit code 1 when any day differs.

Environment: DATABASE_URL, SYNC_ACCOUNT, SYNC_TIMEZONE`,
  async run(argv, io) {
    const { values } = parseOptions("reconcile", argv, {
      from: { type: "string" },
      to: { type: "string" },
      tolerance: { type: "string", default: "0.000001" },
      json: { type: "boolean" },
    });
    for (const name of ["from", "to"] as const) {
      const value = values[name];
      if (value !== undefined && !isDate(value))
        throw new ConfigError(`reconcile: --${name} ${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
    }
    if (values.from !== undefined && values.to !== undefined && values.from > values.to) {
      throw new ConfigError(`reconcile: --from ${values.from} is after --to ${values.to}: no day could be compared`);
    }
    if (!/^\d+(\.\d+)?$/.test(values.tolerance))
      throw new ConfigError(`reconcile: --tolerance ${JSON.stringify(values.tolerance)} must be a non-negative decimal`);
    const config = loadConfig(io.env);
    const db = await resolveMigratedDatabase(config, io.note);
    try {
      const result = await withSession(db.url, (client) =>
        reconcile(client, {
          account: config.account,
          timezone: config.timezone,
          from: values.from,
          to: values.to,
          tolerance: values.tolerance,
        }),
      );
      if (values.json) io.out(JSON.stringify(result, null, 2));
      else if (result.differing.length === 0) {
        io.out(
          `ledger agrees with Generect on ${result.daysCompared} days (${config.timezone}${result.daysIncomplete ? `, ${result.daysIncomplete} day(s) not yet complete in the ledger` : ""})`,
        );
      } else {
        io.out(
          `ledger differs from Generect on ${result.differing.length} of ${result.daysCompared} days (${config.timezone}, tolerance ${values.tolerance}):`,
        );
        for (const d of result.differing) {
          io.out(`  ${d.day}  Generect ${d.apiSpent}  ledger ${d.ledgerSpent}  difference ${d.difference}  (${d.ledgerCharges} charges)`);
        }
      }
      return result.differing.length ? 1 : 0;
    } finally {
      await db.close();
    }
  },
};
