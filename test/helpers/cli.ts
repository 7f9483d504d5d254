// Runs the real CLI from source in a child process (tsx), as a user or a CronJob would run it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const entry = path.join(repoRoot, "src/cli/index.ts");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Everything printed so far (both streams). */
  output(): string;
}

/**
 * Under `faketime` (libfaketime: `faketime -f +9h npm test -- test/cli`), the children share the
 * test's shifted clock, so a test can be run at any hour of the day.
 */
function fakedClock(): Record<string, string> {
  const { FAKETIME, LD_PRELOAD } = process.env;
  return FAKETIME && LD_PRELOAD?.includes("faketime") ? { FAKETIME, LD_PRELOAD } : {};
}

/** The environment a child sees: only what the test gives, plus PATH/HOME (no stray DATABASE_URL) and a faked clock. */
export function spawnCli(args: string[], env: Record<string, string | undefined>): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", ...fakedClock(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => stdout + stderr };
}

export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return spawnCli(args, env).done;
}

/**
 * A Node.js older than the CLI supports, found on this machine (Debian's /usr/bin/node is 20 on the
 * CI machine), or undefined: the tests of the Node check run the real old runtime, not a fake.
 */
export function oldNode(): string | undefined {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"]) {
    if (!existsSync(candidate) || candidate === process.execPath) continue;
    const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
    if (Number.parseInt(version.slice(1), 10) < 22) return candidate;
  }
  return undefined;
}
