import { passwordOf } from "../config/database-url.js";
import { explainDatabaseError } from "../db/errors.js";
import { ExitCode, SyncError } from "../errors.js";
import { scrubSecrets } from "../secrets.js";
import { version } from "../version.js";
import type { CommandIo } from "./command.js";
import { commands } from "./registry.js";

export { commands };

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
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.note(`generect-sync: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.Usage;
  }
  const secrets = [io.env.GENERECT_API_TOKEN, passwordOf(io.env.DATABASE_URL ?? "")];
  try {
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(command.help);
      return ExitCode.Success;
    }
    return await command.run(rest, io);
  } catch (caught) {
    // A database failure that escaped as a driver error names the database it failed on.
    const error = caught instanceof SyncError ? caught : (explainDatabaseError(caught, io.env.DATABASE_URL) ?? caught);
    const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets);
    const code = error instanceof SyncError ? ` [${error.code}]` : "";
    io.note(`generect-sync ${name}: error${code}: ${message}`);
    if (io.env.DEBUG && caught instanceof Error && caught.stack) io.note(scrubSecrets(caught.stack, secrets));
    return error instanceof SyncError ? error.exitCode : ExitCode.Failure;
  }
}
