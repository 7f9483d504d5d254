// Which code was measured: the commit, and whether the measured parts had uncommitted changes
// (other work in progress changes the numbers). Undefined outside a git checkout.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const measuredPaths = ["src/sync", "src/api", "src/simulator", "src/db", "src/cli", "bin", "prisma"];

export function codeVersion(): string | undefined {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  // Not trimmed: a porcelain line starts with its status columns, a space among them.
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  try {
    const commit = git("rev-parse", "--short", "HEAD").trim();
    const dirty = git("status", "--porcelain", "--", ...measuredPaths)
      .split("\n")
      .filter(Boolean)
      .map((line) => line.slice(3).split("/").slice(0, 2).join("/"));
    const parts = [...new Set(dirty)];
    return parts.length ? `${commit} + uncommitted changes in ${parts.join(", ")}` : commit;
  } catch {
    return undefined;
  }
}
