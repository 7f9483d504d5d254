import { ConfigError } from "../../errors.js";
import { type Command, parseOptions } from "../command.js";

export const verifyCommand: Command = {
  name: "verify",
  summary: "prove the mirror complete and untouched: audit sweep, balance chain, checkpoints, hash chain",
  help: `Usage: generect-sync verify [--json] [--repair] [--digest HEX]
       generect-sync verify --all [--json] [--repair] [--shard I/N]

One line per proof (README: What verify proves):
  audit_sweep          per window of the whole history (SYNC_WINDOW long), the API's count
                       (one limit=1 request) against the database's live rows
  balance_chain        previous after_balance + amount = after_balance per balance type, under
                       the rule the account's data follows (all rows, settled rows, success rows)
  balance_checkpoints  each users/me capture against the ledger's balances per type from the
                       request to the answer
  tamper_evidence      the hash chain over every version, recomputed, and each deletion mark and
                       history row's validity against the chained versions; names the first
                       version that no longer matches
  quarantine           rows the API sent that could not be stored, until resolved

  --json          the report as JSON
  --repair        walk the windows that differ again, through the normal window pipeline
                  (versions recorded), then count them again
  --digest HEX    a head digest kept outside the database (printed by every run): the history
                  must still produce it

--all verifies every account of SYNC_ACCOUNTS_FILE (each under its lock, under the fleet's
SYNC_CONCURRENCY / SYNC_DB_CONNECTIONS budget) and prints one line per account: all proofs hold, or
which differ and the first finding of each (--json: every account's full report). An account whose
lock another process holds is skipped and reported; one whose token variable is unset fails.
--digest is one account's: not with --all. --shard I/N as for run --all.

Exit codes: 0 every proof holds (with --all: for every account verified, skipped ones aside);
1 something differs (named) or an account failed; 2 bad usage, configuration or accounts file.

Environment: GENERECT_API_TOKEN, GENERECT_API_URL, DATABASE_URL, SYNC_ACCOUNT, SYNC_START, SYNC_WINDOW,
SYNC_CONCURRENCY`,
  async run(argv, io) {
    const { values } = parseOptions("verify", argv, {
      json: { type: "boolean" },
      repair: { type: "boolean" },
      digest: { type: "string" },
      all: { type: "boolean" },
      shard: { type: "string" },
    });
    if (values.all) {
      if (values.digest !== undefined)
        throw new ConfigError("verify: --digest is one account's head digest: verify that account alone (SYNC_ACCOUNT), not with --all");
      return (await import("../fleet-command.js")).runFleetCommand("verify", io, values.shard, {
        repair: values.repair,
        json: values.json,
      });
    }
    if (values.shard !== undefined) throw new ConfigError("verify: --shard goes with --all");
    if (values.digest !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.digest)) {
      throw new ConfigError(`verify: --digest ${JSON.stringify(values.digest)} is not a SHA-256 digest (64 hex digits)`);
    }
    const [{ verify, renderReport }, { withSyncSession }] = await Promise.all([import("../../job/verify.js"), import("../session.js")]);
    return withSyncSession(io, async ({ config, databaseUrl, log, signal }) => {
      const report = await verify({ config, databaseUrl, log, signal, repair: values.repair, digest: values.digest?.toLowerCase() });
      if (values.json) io.out(JSON.stringify(report, (_key, value: unknown) => (Buffer.isBuffer(value) ? undefined : value), 2));
      else for (const line of renderReport(report)) io.out(line);
      return report.holds ? 0 : 1;
    });
  },
};
