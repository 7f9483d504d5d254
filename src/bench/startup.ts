// `npm run bench -- --startup`: how long the installed CLI takes to answer, as a person or a
// CronJob starts it: the bin file through its shebang, one process per run, wall time from spawn
// to exit. Each case runs `runs` times after one warm-up (the OS file cache); the median is quoted.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/generect-sync.js");

export interface StartupCase {
  label: string;
  args: string[];
  /** Median wall time, in seconds; undefined when the command did not succeed (e.g. not in this version). */
  medianSeconds: number | undefined;
  minSeconds: number | undefined;
  maxSeconds: number | undefined;
  /** The target this case is held to, in seconds (README, issue #18). */
  targetSeconds: number;
  exitCode: number | null;
}

function timeOnce(args: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; code: number | null }> {
  return new Promise((resolve) => {
    const began = performance.now();
    const child = execFile(bin, args, { env }, () => resolve({ seconds: (performance.now() - began) / 1000, code: child.exitCode }));
  });
}

/** Times `--help`, `--version`, `status --help` and `status` on an empty migrated database. */
export async function measureStartup(options: { runs: number; databaseUrl: string; say: (line: string) => void }): Promise<StartupCase[]> {
  // The shebang's `env -S node` must find this Node (the CLI needs 22+).
  const env = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME, DATABASE_URL: options.databaseUrl };
  const cases: [string, string[], number][] = [
    ["--help", ["--help"], 0.15],
    ["--version", ["--version"], 0.15],
    ["status --help", ["status", "--help"], 0.15],
    ["status (empty database)", ["status"], 0.5],
  ];
  const results: StartupCase[] = [];
  for (const [label, args, targetSeconds] of cases) {
    const warm = await timeOnce(args, env);
    const times: number[] = [];
    if (warm.code === 0) for (let i = 0; i < options.runs; i++) times.push((await timeOnce(args, env)).seconds);
    times.sort((a, b) => a - b);
    const median = times.length ? (times[(times.length - 1) >> 1]! + times[times.length >> 1]!) / 2 : undefined;
    results.push({
      label,
      args,
      medianSeconds: median,
      minSeconds: times[0],
      maxSeconds: times.at(-1),
      targetSeconds,
      exitCode: warm.code,
    });
    options.say(
      median === undefined
        ? `startup ${label}: exit ${warm.code}, not measured`
        : `startup ${label}: median ${median.toFixed(3)} s over ${times.length} runs`,
    );
  }
  return results;
}

export function formatStartup(cases: StartupCase[], runs: number): string {
  const seconds = (s: number | undefined) => (s === undefined ? "-" : s.toFixed(3));
  const lines = [
    `CLI start-up: bin/generect-sync.js through its shebang, wall time per process, ${runs} runs after a warm-up`,
    `${"command".padEnd(26)} ${"median s".padStart(9)} ${"min s".padStart(7)} ${"max s".padStart(7)} ${"target s".padStart(9)}  verdict`,
  ];
  for (const c of cases) {
    const verdict =
      c.medianSeconds === undefined
        ? `not measured (exit ${c.exitCode})`
        : c.medianSeconds <= c.targetSeconds
          ? "meets target"
          : "OVER TARGET";
    lines.push(
      `${c.label.padEnd(26)} ${seconds(c.medianSeconds).padStart(9)} ${seconds(c.minSeconds).padStart(7)} ${seconds(c.maxSeconds).padStart(7)} ${c.targetSeconds.toFixed(2).padStart(9)}  ${verdict}`,
    );
  }
  return lines.join("\n");
}
