// `--simulator process`: the simulator in a child process, so the bench process's RSS and CPU are the
// client's alone (a million-row ledger holds ~500 MB) and the server does not share its event loop.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchSimulator, MutationResult, MutationSpec, SimulatorStart } from "./sim-host.js";

/** sim-child.ts under tsx, sim-child.js once built. */
function childEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/sim-process\.(ts|js)$/, "sim-child.$1");
}

export class ChildSimulator implements BenchSimulator {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  url = "";
  token = "";
  size = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (reply: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new Error(`simulator child: ${reply.error}`));
    });
    child.on("exit", (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`simulator child exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  static async start(options: SimulatorStart): Promise<ChildSimulator> {
    // Same flags as this process (e.g. --import tsx), without profiling or inspector flags.
    const execArgv = process.execArgv.filter((flag) => !/^--(cpu-prof|heap-prof|inspect)/.test(flag));
    const child = fork(childEntry(), [], { execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const sim = new ChildSimulator(child);
    const started = (await sim.call("start", options)) as { url: string; token: string; size: number };
    Object.assign(sim, started);
    return sim;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private call(op: string, ...args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, op, args });
    });
  }

  async requests(): Promise<Record<string, number>> {
    return (await this.call("requests")) as Record<string, number>;
  }

  async mutate(spec: MutationSpec): Promise<MutationResult> {
    const result = (await this.call("mutate", spec)) as MutationResult;
    this.url = result.url;
    this.size = result.size;
    return result;
  }

  async writeCopyFile(file: string, account: string, tail: readonly string[]): Promise<void> {
    await this.call("copy", file, account, tail);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    await this.call("close").catch(() => {});
    this.child.disconnect();
    await exited;
  }
}
