import { InterruptedError } from "../errors.js";
import type { CommandIo } from "./command.js";

/** `run --all` and `snapshot --all`: the fleet, one summary line per account, the fleet's exit code. */
export async function runFleetCommand(pass: "run" | "snapshot", io: CommandIo, shard: string | undefined): Promise<number> {
  const [{ runFleet, fleetExitCode, outcomeLine }, { withFleetSession }] = await Promise.all([import("../job/fleet.js"), import("./session.js")]);
  return withFleetSession(io, shard, async ({ config, accounts, dbConnections, databaseUrl, log, signal }) => {
    const outcomes = await runFleet({ accounts, databaseUrl, log, signal, pass, concurrency: config.concurrency, dbConnections });
    for (const outcome of outcomes) io.out(outcomeLine(outcome));
    const counts = (status: string) => outcomes.filter((o) => o.status === status).length;
    io.out(`fleet: ${counts("succeeded")} succeeded, ${counts("failed")} failed, ${counts("skipped")} skipped (lock held elsewhere), ${counts("interrupted")} interrupted, of ${outcomes.length}`);
    if (signal.reason instanceof InterruptedError) return signal.reason.exitCode;
    return fleetExitCode(outcomes);
  });
}
