import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "../errors.js";

/** What every subcommand provides; registry.ts lists them and main.ts dispatches on `name`. */
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

/**
 * parseArgs with usage errors turned into ConfigError (exit code 2). A command takes no positional
 * argument unless it names them (`positionals: "ROLE"`): `run now` must not run. A negative number
 * after a string option (`--tolerance -1`) is taken as its value, so the command's own check
 * can say what is wrong with it (node's parser calls it "ambiguous").
 */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  argv: string[],
  options: T,
  { positionals }: { positionals?: string } = {},
) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!,
      next = argv[i + 1];
    const takesValue = arg.startsWith("--") && options[arg.slice(2)]?.type === "string";
    if (takesValue && next !== undefined && /^-[\d.]/.test(next)) args.push(`${arg}=${argv[++i]}`);
    else args.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${command}: ${(error as Error).message} (see generect-sync ${command} --help)`);
  }
  if (!positionals && parsed.positionals.length) {
    throw new ConfigError(
      `${command}: unexpected argument ${JSON.stringify(parsed.positionals[0])}: ${command} takes options only (see generect-sync ${command} --help)`,
    );
  }
  return parsed;
}
