import { readFileSync } from "node:fs";

/**
 * generect-sync's version, from its package.json (one directory above src/ and dist/ alike, and
 * copied into the image): what `--version` prints, `status --json`, the metrics and each run row carry.
 */
export const version: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;
