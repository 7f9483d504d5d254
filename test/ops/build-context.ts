// The build context `docker build .` would send from this checkout: the files git knows (tracked,
// plus untracked ones not git-ignored, as a working-tree build sees a colleague's new file), minus
// what .dockerignore excludes.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import path from "node:path";
import { isIgnored, parseDockerignore } from "./dockerignore.js";

export function buildContext(repoRoot: string): string[] {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
  const ignoreFile = path.join(repoRoot, ".dockerignore");
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, "utf8")) : [];
  return [...new Set(listed.split("\0"))]
    .filter((file) => file !== "" && !isIgnored(rules, file))
    .filter((file) => {
      // Deleted in the working tree but still in the index: not in the context.
      return lstatSync(path.join(repoRoot, file), { throwIfNoEntry: false }) !== undefined;
    })
    .sort();
}
