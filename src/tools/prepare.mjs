// Runs on `npm ci` / `npm install` in a clone: generate the Prisma client, then build dist/.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const steps = [["src/tools/prisma-generate.mjs"], [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"]];
for (const args of steps) {
  const result = spawnSync(process.execPath, args, { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
