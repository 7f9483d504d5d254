import { main } from "./main.js";

const code = await main(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  note: (line) => process.stderr.write(`${line}\n`),
});
// Let stdout drain, then leave with the code even if a stray handle (a pool, a timer) lingers.
process.exitCode = code;
setTimeout(() => process.exit(code), 200).unref();
