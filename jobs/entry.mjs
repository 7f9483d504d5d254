// Shared by the job entrypoints: one CLI command, the process's exit code.
import { runAsProcess } from "../dist/cli/process.js";

export function runCommand(command) {
  return runAsProcess([command, ...process.argv.slice(2)]);
}
