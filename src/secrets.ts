/** Secrets are scrubbed here, apart from log.ts, so the CLI's error path does not load pino. */
const redacted = "[REDACTED]";
/** Shorter secrets (and shorter leftover prefixes of one) are not worth hiding: they would redact common words. */
const minSecretLength = 4;

/**
 * The forms a secret takes in text: as is, URL-encoded (a query string, a logged URL), and JSON-
 * escaped once or twice (a body quoting it, then that body quoted in a JSON log line). Longest
 * first, so a longer form is replaced whole before a shorter one inside it.
 */
function secretForms(secret: string): string[] {
  const jsonEscape = (text: string) => JSON.stringify(text).slice(1, -1);
  const forms = new Set<string>();
  for (const base of [secret, encodeURIComponent(secret)]) {
    forms.add(base);
    forms.add(jsonEscape(base));
    forms.add(jsonEscape(jsonEscape(base)));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

function formsOf(secrets: (string | undefined)[]): string[] {
  return secrets.filter((s): s is string => typeof s === "string" && s.length >= minSecretLength).flatMap(secretForms);
}

/** Removes every secret, in each of its forms, from a text meant for a terminal, a log or a table. */
export function scrubSecrets(text: string, secrets: (string | undefined)[]): string {
  return scrubForms(text, formsOf(secrets));
}

function scrubForms(text: string, forms: readonly string[]): string {
  // A form that does not occur changes nothing: only a line that holds one is split and joined.
  return forms.reduce((t, form) => (t.includes(form) ? t.split(form).join(redacted) : t), text);
}

/**
 * scrubSecrets with the secrets' forms worked out once: a fleet's logger scrubs every line of
 * every account with every account's token (200 accounts: 1,200 forms), so computing them per
 * line was a visible share of the fleet's CPU.
 */
export function secretScrubber(secrets: (string | undefined)[]): (text: string) => string {
  const forms = formsOf(secrets);
  return (text) => scrubForms(text, forms);
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
