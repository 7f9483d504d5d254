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
export function spawnCli(args: string[], env: Record<string, string | undefined>, { nodeArgs = [] as string[] } = {}): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry, ...args], {
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

export function runCli(args: string[], env: Record<string, string | undefined>, options: { nodeArgs?: string[] } = {}): Promise<CliResult> {
  return spawnCli(args, env, options).done;
}

/** Runs the CLI and lists the npm packages it loaded (test/helpers/trace-modules.mjs records them). */
export async function runCliTracingPackages(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CliResult & { packages: string[] }> {
  const { mkdtemp, readFile, rm } = await import("node:fs/promises");
  const os = await import("node:os");
  const dir = await mkdtemp(path.join(os.tmpdir(), "gs-trace-"));
  const file = path.join(dir, "modules");
  try {
    const result = await runCli(
      args,
      { ...env, GS_TRACE_MODULES: file },
      { nodeArgs: ["--import", path.join(repoRoot, "test/helpers/trace-modules.mjs")] },
    );
    const urls = (await readFile(file, "utf8").catch(() => "")).split("\n");
    const packages = new Set(
      urls.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter((name): name is string => name !== undefined),
    );
    return { ...result, packages: [...packages].filter((name) => name !== "tsx" && name !== "esbuild").sort() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Shell-quotes one word for the script tmux runs. */
const shellWord = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * Runs the CLI in a real terminal, as a person at a TTY would: a detached tmux session of
 * `columns` x `rows`, then reads the screen and its scrollback (text without colors) once the
 * command has exited. Each call has its own tmux server (socket), killed afterwards.
 */
export async function runCliInTty(
  args: string[],
  env: Record<string, string | undefined>,
  { columns = 160, rows = 50, timeoutMs = 60_000 } = {},
): Promise<{ code: number; screen: string }> {
  const { execFile } = await import("node:child_process");
  const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
  const os = await import("node:os");
  const dir = await mkdtemp(path.join(os.tmpdir(), "gs-tty-"));
  const socket = path.join(dir, "tmux.sock");
  const tmux = (...tmuxArgs: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile("tmux", ["-S", socket, "-f", path.join(dir, "tmux.conf"), ...tmuxArgs], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    );
  const vars = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", TERM: "xterm-256color", ...env };
  const script = [
    ...Object.entries(vars)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `export ${k}=${shellWord(v!)}`),
    `cd ${shellWord(repoRoot)}`,
    [process.execPath, "--import", "tsx", entry, ...args].map(shellWord).join(" "),
    `echo "[exit $?]"`,
    "sleep 600",
  ].join("\n");
  await writeFile(path.join(dir, "run.sh"), script);
  await writeFile(path.join(dir, "tmux.conf"), "set -g history-limit 100000\n");
  try {
    await tmux("new-session", "-d", "-s", "cli", "-x", String(columns), "-y", String(rows), `sh ${shellWord(path.join(dir, "run.sh"))}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = (await tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "cli")).replace(/\n+$/, "");
      const exit = /^\[exit (\d+)\]$/m.exec(screen);
      if (exit) return { code: Number(exit[1]), screen: screen.slice(0, exit.index).replace(/\n+$/, "") };
      if (Date.now() > deadline) throw new Error(`the CLI did not exit within ${timeoutMs} ms in tmux; screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await tmux("kill-server").catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
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
