import { randomBytes } from "node:crypto";
import path from "node:path";
import { passwordOf } from "../../config/database-url.js";
import { loadConfig } from "../../config/index.js";
import { inTransaction, withSession } from "../../db/database.js";
import { migrate } from "../../db/migrate.js";
import { homeDir, resolveDatabase } from "../../db/resolve.js";
import { clearDemoSql, demoTotalsSql } from "../../db/sql/demo.js";
import { runSync } from "../../job/run.js";
import { createLogger } from "../../log.js";
import { compareWithLedger, describeDifference, isEqual } from "../../proofs/against-ledger.js";
import { formatUnits, parseUnits } from "../../simulator/decimal.js";
import { startSimulator } from "../../simulator/index.js";
import { reconcile } from "../../snapshots/reconcile.js";
import { type Command, parseOptions } from "../command.js";
import { createProgress } from "../progress.js";
import { describeSnapshots } from "./snapshot.js";

/** The demo owns its account label; its rows are cleared at the start so every demo is a first sync. */
const demoAccount = "demo";

export const demoCommand: Command = {
  name: "demo",
  summary: "simulator + embedded Postgres: a full sync and a summary",
  help: `Usage: generect-sync demo [--rows 5000] [--seed 42]

Starts the Generect simulator with a seeded ledger, an embedded Postgres (or DATABASE_URL),
migrates it, runs a full sync into account "${demoAccount}" (cleared first), then checks the
database against the simulator row by row, reconciles the daily spend, and prints a summary and
how to query the result.

Options:
  --rows N   transactions in the simulator's ledger, over 3 years up to now (default 5000)
  --seed S   the ledger's random seed: the same seed and rows give the same ledger, ending now (default 42)`,
  async run(argv, io) {
    const { values } = parseOptions("demo", argv, { rows: { type: "string", default: "5000" }, seed: { type: "string", default: "42" } });
    const config = { ...loadConfig(io.env), account: demoAccount };
    const token = randomBytes(16).toString("hex");
    const sim = await startSimulator({ token, rows: Number(values.rows), seed: Number(values.seed) });
    const db = await resolveDatabase(config, io.note);
    const log = createLogger({ secrets: [token, passwordOf(db.url)], level: io.env.LOG_LEVEL ? config.logLevel : "warn" });
    try {
      // The one migration of the demo: resolveDatabase starts the server, it does not migrate.
      const { applied } = await migrate(db.url);
      if (applied.length) io.note(`applied ${applied.length} migration(s)`);
      // All or nothing: a clear that stopped halfway would leave rows that reference deleted ones.
      await withSession(db.url, (admin) =>
        inTransaction(admin, async (tx) => {
          for (const sql of clearDemoSql) await tx.query(sql, [demoAccount]);
        }),
      );
      io.out(`simulator: ${sim.url} with ${sim.ledger.size} transactions over 3 years`);
      const progress = createProgress();
      const summary = await runSync({ config: { ...config, apiToken: token, apiUrl: sim.url }, databaseUrl: db.url, log, progress });
      progress?.finish();
      const { diff, totals, check } = await withSession(db.url, async (admin) => ({
        diff: await compareWithLedger(admin, demoAccount, sim.ledger),
        totals: await admin.query<{ rows: string; spent: string; versions: string }>(demoTotalsSql, [demoAccount]),
        check: await reconcile(admin, { account: demoAccount, timezone: config.timezone, tolerance: "0" }),
      }));
      const t = totals.rows[0]!;
      const truthSpent = sim.ledger
        .all()
        .filter((r) => r.status === "success" && r.amount.startsWith("-"))
        .reduce((sum, r) => sum + parseUnits(r.amount), 0n);
      io.out(
        `run #${summary.runId}: ${summary.windows} windows, ${summary.pages} pages, ${summary.apiRequests} API requests, ${summary.retries} retries`,
      );
      io.out(
        `transactions: ${t.rows} rows, ${t.versions} versions; spent (success charges): ${t.spent} in Postgres, ${formatUnits(truthSpent)} in the simulator`,
      );
      io.out(
        isEqual(diff)
          ? `database equals the simulator's ledger: ${diff.compared} rows, every field`
          : `MISMATCH: ${describeDifference(diff)}`,
      );
      if (summary.snapshots) io.out(describeSnapshots(summary.snapshots));
      io.out(
        check.differing.length
          ? `reconciliation: ${check.differing.length} day(s) differ`
          : `reconciliation: ledger agrees with Generect on ${check.daysCompared} days (${config.timezone})`,
      );
      io.out(`next: SYNC_ACCOUNT=${demoAccount} npx generect-sync status`);
      if (db.embedded) {
        // The server stops with this command: psql needs `db` to keep it up.
        io.out(
          `      npx generect-sync sql "SELECT balance_type, count(*), sum(amount) FROM transactions WHERE account = '${demoAccount}' GROUP BY 1"`,
        );
        io.out(
          `      npx generect-sync db     (keeps the embedded Postgres up until Ctrl-C, for psql "$(cat ${db.urlFile})"; data in ${path.join(homeDir(config), "pg")})`,
        );
      }
      return isEqual(diff) ? 0 : 1;
    } finally {
      await sim.close();
      await db.close();
    }
  },
};
