import type { Command } from "./command.js";

/**
 * A command as the top-level `--help` lists it. Its module is imported by `load()` only when the
 * command runs (or shows its own help): `--help` and `status` must not pay for Prisma, got, the
 * simulator or the schema engine. To add a command, write its module and add one line here;
 * `summary` must equal the module's own (a unit test checks it).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  {
    name: "migrate",
    summary: "apply the schema migrations (idempotent)",
    load: async () => (await import("./commands/migrate.js")).migrateCommand,
  },
  {
    name: "run",
    summary: "one sync pass: fetch new and changed transactions, then exit",
    load: async () => (await import("./commands/run.js")).runCommand,
  },
  {
    name: "snapshot",
    summary: "capture daily spent credits (also part of every run)",
    load: async () => (await import("./commands/snapshot.js")).snapshotCommand,
  },
  {
    name: "worker",
    summary: "long-running: sync on SYNC_CRON, snapshots on SNAPSHOT_CRON",
    load: async () => (await import("./commands/worker.js")).workerCommand,
  },
  {
    name: "reconcile",
    summary: "compare Generect's daily spend with the ledger's",
    load: async () => (await import("./commands/reconcile.js")).reconcileCommand,
  },
  {
    name: "statement",
    summary: "monthly credit statement for auditors (HTML, CSV, JSON, PDF)",
    load: async () => (await import("./commands/statement.js")).statementCommand,
  },
  {
    name: "verify",
    summary: "prove the mirror complete and untouched: audit sweep, balance chain, checkpoints, hash chain",
    load: async () => (await import("./commands/verify.js")).verifyCommand,
  },
  {
    name: "status",
    summary: "watermark and its lag, last runs, rows, snapshots, reconciliation",
    load: async () => (await import("./commands/status.js")).statusCommand,
  },
  {
    name: "grant-reader",
    summary: "create or update a read-only role for BI tools",
    load: async () => (await import("./commands/grant-reader.js")).grantReaderCommand,
  },
  {
    name: "metrics",
    summary: "delete a retired account's series from the Pushgateway",
    load: async () => (await import("./commands/metrics.js")).metricsCommand,
  },
  {
    name: "db",
    summary: "keep the embedded Postgres up until Ctrl-C, for psql and BI tools",
    load: async () => (await import("./commands/db.js")).dbCommand,
  },
  {
    name: "sql",
    summary: "run SQL (read-only) and print the rows, embedded Postgres included",
    load: async () => (await import("./commands/sql.js")).sqlCommand,
  },
  {
    name: "simulate",
    summary: "serve a local Generect API simulator with seeded data (and faults on demand)",
    load: async () => (await import("./commands/simulate.js")).simulateCommand,
  },
  {
    name: "demo",
    summary: "simulator + embedded Postgres: a full sync and a summary",
    load: async () => (await import("./commands/demo.js")).demoCommand,
  },
];
