// Generic helpers of the embedded server: its output tail, a free port, timeouts, errno checks.
import net from "node:net";

/** How long a fast shutdown (SIGINT) may take before an immediate one (SIGQUIT). */
export const STOP_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_LINES = 40;

/** Keeps the last lines Postgres printed (for error messages) and forwards them to `log` if given. */
export class OutputTail {
  private lines: string[] = [];
  private count = 0;
  constructor(private readonly log?: (msg: string) => void) {}
  add(message: string): void {
    for (const line of message.split(/\r?\n/)) {
      if (!line.trim()) continue;
      this.lines.push(line);
      this.count++;
      if (this.lines.length > OUTPUT_TAIL_LINES) this.lines.shift();
      this.log?.(`postgres: ${line}`);
    }
  }
  mark(): number {
    return this.count;
  }
  since(mark: number): string {
    const n = Math.min(this.count - mark, this.lines.length);
    return n > 0 ? this.lines.slice(-n).join("\n") : "";
  }
  tail(): string {
    return this.lines.join("\n");
  }
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not find a free TCP port"))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
