import { InterruptedError } from "../errors.js";
import type { CommandIo } from "./command.js";

/**
 * `run --all`, `snapshot --all` and `verify --all`: the fleet, one summary line per account (or,
 * with `json`, verify's reports as one JSON array), the fleet's exit code.
 */
export async function runFleetCommand(
  pass: "run" | "snapshot" | "verify",
  io: CommandIo,
  shard: string | undefined,
  extra: { full?: boolean; repair?: boolean; json?: boolean } = {},
): Promise<number> {
  const [{ runFleet, fleetExitCode, outcomeLine }, { withFleetSession }] = await Promise.all([
    import("../job/fleet.js"),
    import("./session.js"),
  ]);
  return withFleetSession(io, shard, async ({ config, accounts, dbConnections, databaseUrl, log, signal }) => {
    const outcomes = await runFleet({
      accounts,
      databaseUrl,
      log,
      signal,
      pass,
      concurrency: config.concurrency,
      dbConnections,
      full: extra.full,
      repair: extra.repair,
    });
    if (extra.json) {
      const json = outcomes.map(({ account, status, code, detail, report }) => ({
        account,
        status,
        code: code ?? null,
        detail,
        report: report ?? null,
      }));
      io.out(JSON.stringify(json, (_key, value: unknown) => (Buffer.isBuffer(value) ? undefined : value), 2));
    } else {
      for (const outcome of outcomes) io.out(outcomeLine(outcome));
      const counts = (status: string) => outcomes.filter((o) => o.status === status).length;
      io.out(
        `fleet: ${counts("succeeded")} succeeded, ${counts("failed")} failed, ${counts("skipped")} skipped (lock held elsewhere), ${counts("interrupted")} interrupted, of ${outcomes.length}`,
      );
    }
    if (signal.reason instanceof InterruptedError) return signal.reason.exitCode;
    return fleetExitCode(outcomes);
  });
}
