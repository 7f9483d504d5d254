// `prisma generate` writes the client from prisma/schema.prisma. The Prisma CLI insists on a
// schema-engine binary being present (it downloads one, which fails offline) although generate
// never runs it; naming any existing file satisfies it. A user's own PRISMA_SCHEMA_ENGINE_BINARY wins.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;

const cli = require.resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [cli, "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
