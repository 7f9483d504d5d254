import { ExitCode, SyncError } from "../errors.js";
import { scrubSecrets } from "../log.js";
import { passwordOf } from "../db/url.js";
import { version } from "../version.js";
import type { Command, CommandIo } from "./command.js";
import { demoCommand } from "./commands/demo.js";
import { migrateCommand } from "./commands/migrate.js";
import { runCommand } from "./commands/run.js";
import { simulateCommand } from "./commands/simulate.js";
import { statusCommand } from "./commands/status.js";
import { snapshotCommand } from "./commands/snapshot.js";
import { reconcileCommand } from "./commands/reconcile.js";
import { grantReaderCommand } from "./commands/grant-reader.js";
import { workerCommand } from "./commands/worker.js";
import { dbCommand } from "./commands/db.js";
import { sqlCommand } from "./commands/sql.js";

export const commands: Command[] = [
  migrateCommand, runCommand, snapshotCommand, workerCommand, reconcileCommand, statusCommand, grantReaderCommand, dbCommand, sqlCommand, simulateCommand, demoCommand,
];

function usage(): string {
  const nameWidth = Math.max(...commands.map((c) => c.name.length));
  return `generect-sync: mirror a Generect account's credit ledger into PostgreSQL

Usage: generect-sync <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(nameWidth)}  ${c.summary}`).join("\n")}

Run \`generect-sync <command> --help\` for a command's options and environment, \`generect-sync --version\` for the version.
Exit codes: 0 ok, 1 failed, 2 bad configuration or usage, 75 locked by another run, 130/143 interrupted.`;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name ? ExitCode.Success : ExitCode.Usage;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(`generect-sync ${version}`);
    return ExitCode.Success;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.note(`generect-sync: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.Usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(command.help);
    return ExitCode.Success;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const secrets = [io.env.GENERECT_API_TOKEN, passwordOf(io.env.DATABASE_URL ?? "")];
    const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets);
    const code = error instanceof SyncError ? ` [${error.code}]` : "";
    io.note(`generect-sync ${name}: error${code}: ${message}`);
    if (io.env.DEBUG && error instanceof Error && error.stack) io.note(scrubSecrets(error.stack, secrets));
    return error instanceof SyncError ? error.exitCode : ExitCode.Failure;
  }
}
