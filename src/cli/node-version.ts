// The first thing the bin and the job entrypoints load, before the rest of the CLI: on an older
// Node the CLI loads, but JSON.parse lacks the source text the API client needs for exact numbers,
// and every response that is not compact JSON fails as "not valid JSON". No imports, so that Node
// versions that cannot load the rest still load this file.

/** The oldest Node.js major the CLI runs on; package.json's `engines` says the same. */
export const minimumNodeMajor = 22;

/** The message for a Node.js version too old to run the CLI, or undefined when it will do. */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number.parseInt(version.replace(/^v/, ""), 10);
  if (major >= minimumNodeMajor) return undefined;
  return `generect-sync needs Node.js ${minimumNodeMajor} or newer (found ${version.replace(/^v/, "")})`;
}

/** Exits with code 2 (bad configuration) on a Node.js too old for the CLI. */
export function requireSupportedNode(): void {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
