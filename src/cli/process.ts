import { terminalFor } from "../terminal.js";
import { main } from "./main.js";

/** Runs the CLI for this process and leaves with its exit code, even if a stray handle lingers. */
export async function runAsProcess(argv: string[]): Promise<void> {
  const code = await main(argv, {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    // Through the terminal the progress bar shares, so a note never lands inside the bar.
    note: (line) => terminalFor(process.stderr).line(line),
  });
  process.exitCode = code;
  // Let stdout drain first.
  setTimeout(() => process.exit(code), 200).unref();
}
