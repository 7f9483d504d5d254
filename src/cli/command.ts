import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../errors.js";

/** What every subcommand provides; main.ts dispatches on `name`. */
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text: usage, options, environment, examples. */
  help: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

export interface CommandIo {
  env: Record<string, string | undefined>;
  /** Human results (stdout). */
  out(line: string): void;
  /** Notes for the operator (stderr). */
  note(line: string): void;
}

/** parseArgs with usage errors turned into ConfigError (exit code 2). */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${command}: ${(error as Error).message} (see generect-sync ${command} --help)`);
  }
}
