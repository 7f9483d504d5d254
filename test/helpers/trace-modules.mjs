// Preloaded by a test (node --import) to record every module the process loads, one URL a line,
// in the file GS_TRACE_MODULES names: which commands load Prisma, got or the simulator is then a fact.
import { appendFileSync } from "node:fs";
import { registerHooks } from "node:module";

const file = process.env.GS_TRACE_MODULES;
if (file) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(file, `${resolved.url}\n`);
      return resolved;
    },
  });
}
