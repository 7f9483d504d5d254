// Shared by the job entrypoints: one CLI command, the process's exit code.
import { requireSupportedNode } from "../dist/cli/node-version.js";

// Before the CLI is loaded: on an old Node it would fail with a misleading error (see node-version).
requireSupportedNode();
const { runAsProcess } = await import("../dist/cli/process.js");

export function runCommand(command) {
  return runAsProcess([command, ...process.argv.slice(2)]);
}
