// `npm run bench`: generect-sync against its ceilings (API, database), a naive baseline and the
// latency bound, side by side in one run. See args.ts for the options; bench.ts for the phases.
import { type BenchArgs, parseBenchArgs, UsageError, usage } from "./args.js";
import { runBench, writeChart } from "./bench.js";
import { formatBi, runBi } from "./bi.js";
import { cleanupAll, onCleanup } from "./cleanup.js";
import { createScratchDatabase, startBenchServer } from "./database.js";
import { formatReport } from "./report.js";
import { type BenchSimulator, SimHost } from "./sim-host.js";
import { ChildSimulator } from "./sim-process.js";
import { formatStartup, measureStartup } from "./startup.js";

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${usage}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }

  const cleanup = () => cleanupAll(say);
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    if (args.startup) {
      const server = await startBenchServer(process.env.DATABASE_URL?.trim() || undefined, say);
      say(`database: ${server.description}`);
      const empty = await createScratchDatabase(server, "startup");
      const cases = await measureStartup({ runs: args.startupRuns, databaseUrl: empty.url, say });
      process.stdout.write(args.json ? `${JSON.stringify({ startup: cases }, null, 2)}\n` : `${formatStartup(cases, args.startupRuns)}\n`);
      return 0;
    }
    if (args.fleet) {
      const { runFleetBench, formatFleetReport } = await import("./fleet.js");
      const server = await startBenchServer(process.env.DATABASE_URL?.trim() || undefined, say);
      say(`database: ${server.description}`);
      const report = await runFleetBench(args, server, say);
      process.stdout.write(args.json ? `${JSON.stringify({ fleet: report }, null, 2)}\n` : `${formatFleetReport(report)}\n`);
      return report.incremental.failed === 0 ? 0 : 1;
    }
    say(`seeding ${args.rows} transactions, simulator ${args.simulator === "inline" ? "in this process" : "in a child process"}`);
    const began = performance.now();
    const options = { rows: args.rows, seed: args.seed, latencyMs: args.latencyMs, years: args.years };
    const sim: BenchSimulator = args.simulator === "process" ? await ChildSimulator.start(options) : await SimHost.start(options);
    onCleanup(() => sim.close());
    say(`simulator ready at ${sim.url} with ${sim.size} transactions (${((performance.now() - began) / 1000).toFixed(1)} s)`);
    const server = await startBenchServer(process.env.DATABASE_URL?.trim() || undefined, say);
    say(`database: ${server.description}`);

    if (args.bi) {
      const bi = await runBi({ rows: args.rows, years: args.years, runs: 5 }, sim, server, say);
      process.stdout.write(args.json ? `${JSON.stringify({ bi }, null, 2)}\n` : `${formatBi(bi)}\n`);
      return bi.verified ? 0 : 1;
    }
    const report = await runBench(args, sim, server, say);
    await writeChart(report);
    if (report.sweep) say(`chart written to ${report.sweep.chart}`);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    if (!report.verification.ok) say("verification FAILED: a phase did not write or fetch the rows it should have");
    return report.verification.ok ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
