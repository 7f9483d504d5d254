// The sync as users run it, for its own peak RSS: `generect-sync run` in a child process, through
// the bin's shebang (so with the heap flags it sets). In-process phases share one heap, so their
// peaks include the earlier phases'; this one is the CLI's alone.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { processCpuSeconds } from "./measure.js";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/generect-sync.js");
const sampleEveryMs = 50;

export interface CliRunResult {
  /** VmHWM of the child: the kernel's own high-water mark of its RSS, read until it exits. */
  peakRssBytes: number;
  /** utime + stime of the child, last sampled. */
  cpuSeconds: number;
  /** What the child wrote on stderr (its logs). */
  stderr: string;
}

/** The kernel's high-water mark of a process's RSS; undefined once it has exited. */
function peakRssBytes(pid: number): number | undefined {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Runs `generect-sync run` with exactly `env` (plus PATH, with this Node first); rejects on a non-zero exit.
 * BENCH_CHILD_NODE_OPTIONS becomes the child's NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=DIR`):
 * the bench's own NODE_OPTIONS would profile the bench and the simulator too.
 */
export async function runCliSync(env: Record<string, string | undefined>, args: string[] = ["run"]): Promise<CliRunResult> {
  const child = spawn(bin, args, {
    env: {
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
      HOME: process.env.HOME,
      LOG_LEVEL: "warn",
      ...(process.env.BENCH_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CHILD_NODE_OPTIONS } : {}),
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const result: Omit<CliRunResult, "stderr"> = { peakRssBytes: 0, cpuSeconds: 0 };
  const sample = () => {
    if (child.pid === undefined) return;
    const peak = peakRssBytes(child.pid);
    const cpu = processCpuSeconds(child.pid, false);
    if (peak === undefined || cpu === undefined) return; // exited between two samples
    result.peakRssBytes = Math.max(result.peakRssBytes, peak);
    result.cpuSeconds = cpu.seconds;
  };
  const timer = setInterval(sample, sampleEveryMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (exitCode) => resolve(exitCode));
  }).finally(() => clearInterval(timer));
  if (code !== 0)
    throw new Error(`generect-sync ${args.join(" ")} exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return { ...result, stderr };
}
