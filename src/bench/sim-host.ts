// The simulator as the benchmark drives it: a seeded ledger behind startSimulator(), a latency added
// to every transactions page, the "1% new, 1% changed" mutation, and the ledger written out in
// COPY's text format for the DB ceiling. Runs in the bench process (inline) or in a child process
// (sim-child.ts) behind the same interface (BenchSimulator).
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { copyText } from "../db/copy.js";
import { formatMicros, Ledger, type SimTransaction, type SimulatorHandle, seedTransactions, startSimulator } from "../simulator/index.js";
import { rowJson } from "../simulator/json.js";

export interface SimulatorStart {
  rows: number;
  seed: number;
  latencyMs: number;
  /** Years the ledger spans, ending now. @default 3 (the simulator's own default span) */
  years?: number;
}

export interface MutationSpec {
  /** Rows to add, created inside the last 23 hours (so inside the default 24h lookback). */
  added: number;
  /** Newest existing rows to change (status flipped, updated_at = now). */
  changed: number;
}

export interface MutationResult {
  added: number;
  changed: number;
  /** Smallest whole-hour lookback (at least 24h) that reaches back to the oldest changed row. */
  lookbackMs: number;
  /** Rows the ledger holds afterwards. */
  size: number;
  url: string;
}

/** What the phases need from a simulator, wherever it runs. */
export interface BenchSimulator {
  readonly url: string;
  readonly token: string;
  readonly size: number;
  /** pid of the child process, when there is one. */
  readonly pid: number | undefined;
  /** Requests answered since start, by path (failed ones included). */
  requests(): Promise<Record<string, number>>;
  mutate(spec: MutationSpec): Promise<MutationResult>;
  /** Writes every ledger row as `copyRowColumns` followed by the constant `tail` values, in COPY's text format. */
  writeCopyFile(file: string, account: string, tail: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The ledger's columns as writeCopyFile writes them, in order, before the caller's constant tail. */
export const copyRowColumns = "id, account, created_at, updated_at, status, balance_type, amount, description, after_balance, raw";

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [key, n] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}
const hourMs = 3_600_000;

/** The simulator and its ledger, in this process. */
export class SimHost implements BenchSimulator {
  readonly token = randomBytes(16).toString("hex");
  readonly pid = undefined;
  private server!: SimulatorHandle;
  /** Requests counted by servers already closed (mutate() restarts the server). */
  private previousRequests: Record<string, number> = {};

  private constructor(private readonly latencyMs: number) {}

  static async start(options: SimulatorStart): Promise<SimHost> {
    const host = new SimHost(options.latencyMs);
    const to = new Date();
    const from = new Date(to);
    from.setUTCFullYear(to.getUTCFullYear() - (options.years ?? 3));
    await host.listen(new Ledger(seedTransactions({ seed: options.seed, rows: options.rows, from, to }), { seed: options.seed }));
    return host;
  }

  private async listen(ledger: Ledger): Promise<void> {
    // The simulator's own latency fault: every authenticated answer leaves that long after its request arrived.
    this.server = await startSimulator({ token: this.token, ledger, faults: this.latencyMs > 0 ? { latencyMs: this.latencyMs } : {} });
  }

  get url(): string {
    return this.server.url;
  }

  get size(): number {
    return this.server.ledger.size;
  }

  async requests(): Promise<Record<string, number>> {
    return addCounts(this.previousRequests, this.server.stats.byPath);
  }

  /**
   * Builds the changed ledger in one pass and restarts the server on it: Ledger.add/update splice a
   * sorted array (O(N) each), which costs tens of seconds for 1% of a million rows.
   */
  async mutate(spec: MutationSpec): Promise<MutationResult> {
    const rows = this.server.ledger.all(); // newest first
    const nowUs = Date.now() * 1000;
    const now = formatMicros(nowUs);
    const changed = Math.min(spec.changed, rows.length);
    const next: SimTransaction[] = new Array(rows.length + spec.added);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      next[i] = i < changed ? { ...row, status: row.status === "error" ? "success" : "error", updated_at: now } : row;
    }
    const spanUs = 23 * hourMs * 1000;
    for (let i = 0; i < spec.added; i++) {
      const createdAt = formatMicros(nowUs - 60_000_000 - Math.floor(((i + 1) * spanUs) / (spec.added + 1)));
      next[rows.length + i] = {
        id: randomUUID(),
        created_at: createdAt,
        updated_at: createdAt,
        status: "success",
        balance_type: "platform",
        amount: "-1",
        description: "bench: a transaction added after the backfill",
        after_balance: "100",
      };
    }
    const oldestChanged = changed > 0 ? rows[changed - 1]!.created_at : undefined;
    const oldestUs = oldestChanged === undefined ? nowUs : Date.parse(`${oldestChanged.slice(0, 23)}Z`) * 1000;
    const lookbackMs = Math.max(24 * hourMs, Math.ceil((nowUs - oldestUs) / 1000 / hourMs + 1) * hourMs);

    this.previousRequests = addCounts(this.previousRequests, this.server.stats.byPath);
    await this.server.close();
    await this.listen(new Ledger(next)); // sorts the new rows into place
    return { added: spec.added, changed, lookbackMs, size: this.size, url: this.url };
  }

  async writeCopyFile(file: string, account: string, tail: readonly string[]): Promise<void> {
    const out = createWriteStream(file);
    const rows = this.server.ledger.all();
    const prefix = `\t${copyText(account)}\t`;
    const seen = `${tail.map((value) => `\t${copyText(value)}`).join("")}\n`;
    const batch = 2000;
    for (let start = 0; start < rows.length; start += batch) {
      let text = "";
      for (const r of rows.slice(start, start + batch)) {
        text +=
          r.id +
          prefix +
          `${r.created_at}Z\t${r.updated_at}Z\t${copyText(r.status)}\t${copyText(r.balance_type)}\t` +
          `${r.amount}\t${copyText(r.description)}\t${r.after_balance}\t${copyText(rowJson(r))}` +
          seen;
      }
      if (!out.write(text)) await once(out, "drain");
    }
    out.end();
    await once(out, "close");
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}
