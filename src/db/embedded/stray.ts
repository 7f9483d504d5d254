// A data directory's stale postmaster.pid: whose process it names, found by scanning /proc (Linux),
// and whether that server is orphaned (stopped here), still someone's (refused) or gone (removed).
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { isErrno, STOP_TIMEOUT_MS, sleep } from "./helpers.js";

/** Clears a stale postmaster.pid before a start; refuses when a live process still owns the server. */
export async function clearStalePostmaster(dataDir: string, log: (msg: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let text: string;
  try {
    text = await fs.readFile(pidFile, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return;
    throw error;
  }
  const lines = text.split("\n");
  const pid = Math.abs(Number.parseInt(lines[0] ?? "", 10)); // negative in single-user mode
  const remove = async (why: string) => {
    // postmaster.pid is Postgres's interlock: backends of a killed postmaster may still be finishing
    // (they chdir into the data directory). Never remove it while any process still works there.
    await waitUntilUnused(dataDir);
    await fs.rm(pidFile, { force: true });
    log(`embedded Postgres: removed stale postmaster.pid (${why})`);
  };

  if (!Number.isInteger(pid) || pid <= 0) return remove("unreadable pid");
  if (!isAlive(pid)) return remove(`process ${pid} is not running`);

  const stat = readProcStat(pid);
  if (!stat) {
    // No /proc (not Linux): cannot tell a live postmaster from a reused pid. Postgres itself refuses
    // to start if a postmaster still owns the directory, which is the safe outcome.
    return;
  }
  if (stat.comm !== "postgres" && stat.comm !== "postmaster") {
    return remove(`pid ${pid} now belongs to "${stat.comm}", not to a postmaster`);
  }
  const port = lines[3]?.trim();
  if (stat.ppid === process.pid) {
    throw new Error(`Embedded Postgres in ${dataDir} is already running in this process (pid ${pid}, port ${port}).`);
  }
  const parent = readProcStat(stat.ppid);
  if (parent && isNodeProcess(stat.ppid, parent.comm)) {
    throw new Error(
      `Embedded Postgres in ${dataDir} is already running (pid ${pid}, port ${port}), started by process ` +
        `${stat.ppid}. Stop that process first.`,
    );
  }
  // Orphaned: the Node process that started it was killed. Shut it down cleanly and start afresh.
  log(`embedded Postgres: stopping the orphaned server left by a killed process (pid ${pid})`);
  process.kill(pid, "SIGINT");
  if (!(await waitForDeath(pid, STOP_TIMEOUT_MS))) {
    process.kill(pid, "SIGQUIT");
    if (!(await waitForDeath(pid, 10_000))) throw new Error(`Could not stop the orphaned postmaster ${pid} in ${dataDir}`);
  }
  if (existsSync(pidFile)) await remove(`orphaned server ${pid} stopped`);
}

/** Linux: waits (up to 10 s) until no process has `dir` as its working directory. */
async function waitUntilUnused(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const users = await processesWorkingIn(dir);
    if (users.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Processes ${users.join(", ")} still use ${dir} although its postmaster is gone; stop them before starting ` +
          `embedded Postgres there.`,
      );
    }
    await sleep(100);
  }
}

async function processesWorkingIn(dir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await fs.readdir("/proc");
  } catch {
    return []; // no /proc: nothing we can check
  }
  const real = await fs.realpath(dir).catch(() => dir);
  const found: number[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const pid = Number(entry);
        if (pid === process.pid) return;
        const cwd = await fs.readlink(`/proc/${entry}/cwd`).catch(() => undefined);
        if (cwd === real && isAlive(pid)) found.push(pid);
      }),
  );
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (!isErrno(error, "EPERM")) return false;
  }
  const state = readProcStat(pid)?.state;
  return state !== "Z" && state !== "X"; // a zombie is dead, merely not reaped yet
}

function readProcStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const [state = "", ppid = "0"] = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(open + 1, close), state, ppid: Number.parseInt(ppid, 10) };
  } catch {
    return undefined;
  }
}

function isNodeProcess(pid: number, comm: string): boolean {
  if (/node/i.test(comm)) return true;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return /node|bun|deno/i.test(path.basename(argv0));
  } catch {
    return false;
  }
}

async function waitForDeath(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}
