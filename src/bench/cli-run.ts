// The sync as users run it, for its own peak RSS: `generect-sync run` in a child process, through
// the bin's shebang (so with the heap flags it sets). In-process phases share one heap, so their
// peaks include the earlier phases'; this one is the CLI's alone.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/generect-sync.js");
const sampleEveryMs = 50;

export interface CliRunResult {
  /** VmHWM of the child: the kernel's own high-water mark of its RSS, read until it exits. */
  peakRssBytes: number;
  /** utime + stime of the child, last sampled. */
  cpuSeconds: number;
}

function readProc(pid: number): { hwm: number; cpu: number } | undefined {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { hwm: Number(hwm?.[1] ?? 0) * 1024, cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return undefined; // exited between two samples
  }
}

/** Runs `generect-sync run` with exactly `env` (plus PATH, with this Node first); rejects on a non-zero exit. */
export async function runCliSync(env: Record<string, string | undefined>): Promise<CliRunResult> {
  const child = spawn(bin, ["run"], {
    env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const result: CliRunResult = { peakRssBytes: 0, cpuSeconds: 0 };
  const sample = () => {
    const proc = child.pid === undefined ? undefined : readProc(child.pid);
    if (!proc) return;
    result.peakRssBytes = Math.max(result.peakRssBytes, proc.hwm);
    result.cpuSeconds = proc.cpu;
  };
  const timer = setInterval(sample, sampleEveryMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (exitCode) => resolve(exitCode));
  }).finally(() => clearInterval(timer));
  if (code !== 0) throw new Error(`generect-sync run exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return result;
}
