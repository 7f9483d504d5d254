import pino, { type Logger } from "pino";
import pinoPretty from "pino-pretty";
import { secretScrubber } from "./secrets.js";
import { terminalFor } from "./terminal.js";

export type { Logger };

/**
 * JSON lines off a TTY (for log collectors), readable lines on one (above the progress bar). Secrets are scrubbed from the
 * finished line, whatever field or message they hid in: redaction by path alone misses a token
 * quoted inside an error message.
 */
export function createLogger(
  options: { secrets?: (string | undefined)[]; level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const scrub = secretScrubber(options.secrets ?? []);
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const base = {
    level,
    base: undefined,
    redact: {
      paths: ["token", "apiToken", "headers.authorization", "*.headers.authorization", "password", "databaseUrl"],
      censor: "[REDACTED]",
    },
    hooks: { streamWrite: scrub },
  };
  if (pretty && !options.destination) {
    // Formatted in this thread and written through the terminal the progress bar draws on, so a
    // line lands above the bar (a pino-pretty transport writes from a worker thread, into it).
    const format = pinoPretty.prettyFactory({ colorize: true, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss" });
    const terminal = terminalFor(process.stderr);
    return pino(base, { write: (line: string) => terminal.line(format(line)) });
  }
  return pino(base, (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: true }));
}

export { scrubbedExcerpt, scrubSecrets } from "./secrets.js";
