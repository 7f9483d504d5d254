import { randomBytes } from "node:crypto";
import { formatDuration, parseDuration } from "../../config/duration.js";
import { ConfigError } from "../../errors.js";
import type { SimulatorFaults } from "../../simulator/index.js";
import { type Command, parseOptions } from "../command.js";

/** Fault flags: flag name → field of SimulatorFaults, what it takes, and its help line. */
const faultFlags = [
  ["latency-ms", "latencyMs", "ms", "every answer leaves this long after its request arrived (its own work included)"],
  ["jitter-ms", "jitterMs", "ms", "extra delay drawn from [0, N) ms per request"],
  ["throttle-rate", "throttleRate", "rate", "probability that a request starts a burst of 429s"],
  ["throttle-burst", "throttleBurst", "count", "429s in a row per burst (default 1)"],
  ["retry-after", "retryAfterSeconds", "seconds", "Retry-After header on 429s, in seconds (0 allowed; default: no header)"],
  ["fail-rate", "failRate", "rate", "probability of a 5xx answer"],
  ["fail-status", "failStatuses", "statuses", "5xx statuses to choose from, comma-separated (default 500,502,503)"],
  ["hang-rate", "hangRate", "rate", "probability that a request hangs (nothing is answered for --hang-ms)"],
  ["hang-ms", "hangMs", "ms", "how long a hung request hangs (default 120000)"],
  ["reset-rate", "resetRate", "rate", "probability of a connection reset mid-body (headers + part of the body, then cut)"],
  ["truncate-rate", "truncateRate", "rate", "probability of a 200 whose JSON is cut short"],
  ["invalid-json-rate", "invalidJsonRate", "rate", "probability of a 200 that is not JSON (an HTML page)"],
  ["bad-row-rate", "badRowRate", "rate", "probability that one row of a page violates the schema"],
  ["ignore-filters-rate", "ignoreFiltersRate", "rate", "probability that a page ignores its filters (rows outside the window)"],
  ["count-drift-rate", "countDriftRate", "rate", "probability that a page's count is off by 1-3"],
  [
    "count-offset",
    "countOffset",
    "integer",
    "added to every page's count, e.g. --count-offset=-1 (a count that lies the same way everywhere)",
  ],
  ["clamp-limit", "clampLimit", "count", "serve at most N rows a page while answering the limit asked and max_limit (a silent clamp)"],
  ["churn-rate", "churnRate", "rate", "probability that a row inside the requested window is inserted/updated/deleted before the page"],
  ["arrival-rate", "arrivalRate", "rate", "probability that a request comes with a new row created now"],
  ["stale-rate", "staleRate", "rate", "probability that a page comes from a replica behind on edits (rows as before their last update)"],
  [
    "clock-offset",
    "clockOffsetMs",
    "duration",
    "the simulator's clock minus the real one, e.g. 5m or =-90s (rows it creates get now + offset)",
  ],
  ["fault-seed", "seed", "integer", "seed of the rate-based faults (default 1): same seed, same faults on the same requests"],
] as const;

function parseFaultFlag(flag: string, kind: (typeof faultFlags)[number][2], text: string): number | number[] {
  const bad = (what: string) => new ConfigError(`simulate: --${flag} must be ${what}, got ${JSON.stringify(text)}`);
  const trimmed = text.trim();
  switch (kind) {
    case "rate": {
      const value = Number(trimmed);
      if (trimmed === "" || !Number.isFinite(value) || value < 0 || value > 1) throw bad("a probability from 0 to 1");
      return value;
    }
    case "ms":
    case "count": {
      if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) throw bad("a whole number >= 0");
      return Number(trimmed);
    }
    case "seconds": {
      const value = Number(trimmed);
      if (trimmed === "" || !Number.isFinite(value) || value < 0) throw bad("a number of seconds >= 0");
      return value;
    }
    case "integer": {
      if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) throw bad("an integer");
      return Number(trimmed);
    }
    case "statuses": {
      const statuses = trimmed.split(",").map((s) => s.trim());
      if (statuses.some((s) => !/^5\d\d$/.test(s))) throw bad("comma-separated 5xx statuses, e.g. 500,502,503");
      return statuses.map(Number);
    }
    case "duration": {
      const match = /^([+-]?)(.*)$/.exec(trimmed)!;
      const ms = match[2] === "0" ? 0 : parseDuration(match[2]!);
      if (ms === undefined) throw bad("a duration such as 5m, -90s or 1h30m (write a negative one as --clock-offset=-90s)");
      return match[1] === "-" ? -ms : ms;
    }
  }
}

/** `--sunset DATE`: every answer announces the endpoints' retirement on that day (RFC 9745 / RFC 8594 headers). */
function deprecationHeaders(text: string, now = new Date()): NonNullable<SimulatorFaults["deprecationHeaders"]> {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? new Date(`${text.trim()}T00:00:00Z`) : undefined;
  // Date rolls 2027-02-31 over into March: only a day that reads back the same is a day.
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== text.trim())
    throw new ConfigError(`simulate: --sunset must be a date such as 2027-07-01, got ${JSON.stringify(text)}`);
  return {
    deprecation: `@${Math.floor(now.getTime() / 1000)}`,
    sunset: day.toUTCString(),
    link: '<https://docs.generect.com/changelog>; rel="deprecation"',
  };
}

function describeFaults(faults: Partial<SimulatorFaults>): string {
  const parts = faultFlags
    .filter(([, field]) => faults[field] !== undefined && !(field === "clockOffsetMs" && faults[field] === 0))
    .map(([flag, field, kind]) => {
      const value = faults[field]!;
      if (kind === "duration") return `${flag} ${(value as number) < 0 ? "-" : ""}${formatDuration(Math.abs(value as number))}`;
      return `${flag} ${Array.isArray(value) ? value.join(",") : String(value)}`;
    });
  if (faults.deprecationHeaders?.sunset) parts.push(`sunset ${faults.deprecationHeaders.sunset}`);
  return parts.length ? parts.join(", ") : "none";
}

export const simulateCommand: Command = {
  name: "simulate",
  summary: "serve a local Generect API simulator with seeded data (and faults on demand)",
  help: `Usage: generect-sync simulate [--port 8080] [--host 127.0.0.1] [--rows 5000] [--seed 42] [--years 3]
                          [--accounts N [--accounts-file PATH]] [fault flags]

Starts a local HTTP server that behaves like the Generect credits API (Token auth, limit/offset,
newest first, every documented filter, spent_credits) over a deterministic seeded ledger, and
serves until interrupted. The token is GENERECT_API_TOKEN (or --token), or a generated one that
is printed: it is the simulator's own key, not a Generect secret.

--accounts N serves N accounts on the one server, one seeded ledger each (--rows rows, seed
--seed + i), each behind its own key <token>-<i>; generated keys are printed as
ACCOUNT_<i>_TOKEN=... lines (keys made from a token you gave are not), and --accounts-file PATH
writes a SYNC_ACCOUNTS_FILE listing account-<i> with token_env ACCOUNT_<i>_TOKEN, ready for
\`run --all\`.

Fault flags make it misbehave, for manual trials of the job's retries and guards. Rates are
probabilities from 0 to 1 per authenticated API request (requests without the right token always
get 401/403), drawn from --fault-seed: the same seed gives the same faults on the same requests.
${faultFlags.map(([flag, , kind, text]) => `  --${`${flag} <${kind}>`.padEnd(30)} ${text}`).join("\n")}
  --${"sunset <date>".padEnd(30)} every answer carries Deprecation and Sunset headers (retiring on that day, e.g. 2027-07-01)

Example:
  generect-sync simulate --port 8080 &
  GENERECT_API_URL=http://127.0.0.1:8080 GENERECT_API_TOKEN=<printed> generect-sync run

  generect-sync simulate --latency-ms 50 --jitter-ms 20 --fail-rate 0.05 --throttle-rate 0.05 --retry-after 1
  generect-sync simulate --clock-offset=-10m --arrival-rate 0.2     (an API clock 10 minutes behind)`,
  async run(argv, io) {
    const { values } = parseOptions("simulate", argv, {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      rows: { type: "string", default: "5000" },
      seed: { type: "string", default: "42" },
      years: { type: "string", default: "3" },
      token: { type: "string" },
      accounts: { type: "string", default: "1" },
      "accounts-file": { type: "string" },
      sunset: { type: "string" },
      ...Object.fromEntries(faultFlags.map(([flag]) => [flag, { type: "string" as const }])),
    });
    const number = (name: string, text: string, min: number, max = Infinity) => {
      const value = Number(text);
      if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
        throw new ConfigError(
          `simulate: --${name} must be a number ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}, got ${JSON.stringify(text)}`,
        );
      }
      return value;
    };
    const faults: Partial<Record<(typeof faultFlags)[number][1], number | number[]>> = {};
    for (const [flag, field, kind] of faultFlags) {
      const text = (values as Record<string, string | undefined>)[flag];
      if (text !== undefined) faults[field] = parseFaultFlag(flag, kind, text);
    }
    const given = values.token ?? io.env.GENERECT_API_TOKEN;
    const token = given ?? randomBytes(16).toString("hex");
    // The seeded ledger ends at the simulator's own "now", which a clock offset shifts.
    const to = new Date(Date.now() + ((faults.clockOffsetMs as number | undefined) ?? 0));
    const from = new Date(to.getTime() - number("years", values.years, 0.01) * 365.25 * 86_400_000);
    const accounts = Math.floor(number("accounts", values.accounts, 1, 10_000));
    if (values["accounts-file"] !== undefined && accounts < 2)
      throw new ConfigError("simulate: --accounts-file goes with --accounts N (N >= 2)");
    const { startSimulator, Ledger, seedTransactions } = await import("../../simulator/index.js");
    const rows = Math.floor(number("rows", values.rows, 0));
    const seed = Math.floor(number("seed", values.seed, 0));
    // Account 1 is the server's own key and ledger; the others are one ledger per key.
    const keyOf = (i: number) => (accounts === 1 ? token : `${token}-${i}`);
    const extra = Object.fromEntries(
      Array.from({ length: accounts - 1 }, (_, k) => [
        keyOf(k + 2),
        new Ledger(seedTransactions({ seed: seed + k + 1, rows, from, to }), { seed: seed + k + 1 }),
      ]),
    );
    const sim = await startSimulator({
      accounts: extra,
      token: keyOf(1),
      host: values.host,
      port: number("port", values.port, 0, 65_535),
      rows,
      seed,
      from,
      to,
      faults: {
        ...(faults as Partial<SimulatorFaults>),
        ...(values.sunset === undefined ? {} : { deprecationHeaders: deprecationHeaders(values.sunset) }),
      },
    });
    io.out(`Generect simulator listening on ${sim.url} with ${sim.ledger.size} transactions`);
    io.out(`  GENERECT_API_URL=${sim.url}`);
    if (accounts > 1) {
      io.out(
        `  ${accounts} accounts of ${rows} transactions, one ledger per key${given ? " (keys: the one you gave, suffixed -1..-N)" : ":"}`,
      );
      if (!given) for (let i = 1; i <= accounts; i++) io.out(`  ACCOUNT_${i}_TOKEN=${keyOf(i)}`);
      const file = values["accounts-file"];
      if (file !== undefined) {
        const { writeFileSync } = await import("node:fs");
        writeFileSync(
          file,
          `accounts:\n${Array.from({ length: accounts }, (_, k) => `  - name: account-${k + 1}\n    token_env: ACCOUNT_${k + 1}_TOKEN\n`).join("")}`,
        );
        io.out(`  SYNC_ACCOUNTS_FILE=${file}`);
      }
    } else io.out(given ? "  token: the one you gave" : `  GENERECT_API_TOKEN=${token}`);
    io.out(`  faults: ${describeFaults(sim.faults)}`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    const injected = Object.entries(sim.stats.injected)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
    io.out(`served ${sim.stats.requests} requests${injected ? `; injected: ${injected}` : ""}`);
    await sim.close();
    return 0;
  },
};
