import pino, { type Logger } from "pino";

export type { Logger };

/**
 * JSON lines off a TTY (for log collectors), readable lines on one. Secrets are scrubbed from the
 * finished line, whatever field or message they hid in: redaction by path alone misses a token
 * quoted inside an error message.
 */
export function createLogger(options: { secrets?: (string | undefined)[]; level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const secrets = options.secrets ?? [];
  const scrub = (line: string) => scrubSecrets(line, secrets);
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const base = {
    level,
    base: undefined,
    redact: { paths: ["token", "apiToken", "headers.authorization", "*.headers.authorization", "password", "databaseUrl"], censor: "[REDACTED]" },
    hooks: { streamWrite: scrub },
  };
  if (pretty && !options.destination) {
    return pino(base, pino.transport({ target: "pino-pretty", options: { destination: 2, colorize: true, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss" } }));
  }
  return pino(base, (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: true }));
}

const redacted = "[REDACTED]";
/** Shorter secrets (and shorter leftover prefixes of one) are not worth hiding: they would redact common words. */
const minSecretLength = 4;

/**
 * The forms a secret takes in text: as is, URL-encoded (a query string, a logged URL), and JSON-
 * escaped once or twice (a body quoting it, then that body quoted in a JSON log line). Longest
 * first, so a longer form is replaced whole before a shorter one inside it.
 */
function secretForms(secret: string): string[] {
  const escape = (text: string) => JSON.stringify(text).slice(1, -1);
  const forms = new Set<string>();
  for (const base of [secret, encodeURIComponent(secret)]) {
    forms.add(base);
    forms.add(escape(base));
    forms.add(escape(escape(base)));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

function formsOf(secrets: (string | undefined)[]): string[] {
  return secrets.filter((s): s is string => typeof s === "string" && s.length >= minSecretLength).flatMap(secretForms);
}

/** Removes every secret, in each of its forms, from a text meant for a terminal, a log or a table. */
export function scrubSecrets(text: string, secrets: (string | undefined)[]): string {
  return formsOf(secrets).reduce((t, form) => t.split(form).join(redacted), text);
}

/**
 * At most `max` characters of `text` with no secret and no piece of one: scrubbed first (a secret
 * across the cut would leave its first characters), then cut, then a tail that is the beginning of
 * a secret (the text itself may have ended inside one) redacted too.
 */
export function scrubbedExcerpt(text: string, max: number, secrets: (string | undefined)[]): string {
  let excerpt = scrubSecrets(text, secrets).slice(0, max);
  for (const form of formsOf(secrets)) {
    for (let length = Math.min(form.length - 1, excerpt.length); length >= minSecretLength; length--) {
      if (excerpt.endsWith(form.slice(0, length))) {
        excerpt = excerpt.slice(0, excerpt.length - length) + redacted;
        break;
      }
    }
  }
  return excerpt;
}
