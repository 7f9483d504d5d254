import { randomBytes } from "node:crypto";
import { startSimulator } from "../../simulator/index.js";
import { type Command, parseOptions } from "../command.js";
import { ConfigError } from "../../errors.js";

export const simulateCommand: Command = {
  name: "simulate",
  summary: "serve a local Generect API simulator with seeded data",
  help: `Usage: generect-sync simulate [--port 8080] [--host 127.0.0.1] [--rows 5000] [--seed 42] [--years 3]

Starts a local HTTP server that behaves like the Generect credits API (Token auth, limit/offset,
newest first, every documented filter, spent_credits) over a deterministic seeded ledger, and
serves until interrupted. The token is GENERECT_API_TOKEN (or --token), or a generated one that
is printed: it is the simulator's own key, not a Generect secret.

Example:
  generect-sync simulate --port 8080 &
  GENERECT_API_URL=http://127.0.0.1:8080 GENERECT_API_TOKEN=<printed> generect-sync run`,
  async run(argv, io) {
    const { values } = parseOptions("simulate", argv, {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      rows: { type: "string", default: "5000" },
      seed: { type: "string", default: "42" },
      years: { type: "string", default: "3" },
      token: { type: "string" },
    });
    const number = (name: string, text: string, min: number) => {
      const value = Number(text);
      if (!Number.isFinite(value) || value < min) throw new ConfigError(`simulate: --${name} must be a number >= ${min}, got ${JSON.stringify(text)}`);
      return value;
    };
    const given = values.token ?? io.env.GENERECT_API_TOKEN;
    const token = given ?? randomBytes(16).toString("hex");
    const to = new Date();
    const from = new Date(to.getTime() - number("years", values.years, 0.01) * 365.25 * 86_400_000);
    const sim = await startSimulator({
      token,
      host: values.host,
      port: number("port", values.port, 0),
      rows: Math.floor(number("rows", values.rows, 0)),
      seed: Math.floor(number("seed", values.seed, 0)),
      from,
      to,
    });
    io.out(`Generect simulator listening on ${sim.url} with ${sim.ledger.size} transactions`);
    io.out(`  GENERECT_API_URL=${sim.url}`);
    io.out(given ? "  token: the one you gave" : `  GENERECT_API_TOKEN=${token}`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await sim.close();
    return 0;
  },
};
