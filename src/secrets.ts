/** Removes every secret from a text meant for a terminal or a table. Kept apart from log.ts so the CLI's error path does not load pino. */
export function scrubSecrets(text: string, secrets: (string | undefined)[]): string {
  return secrets.filter((s): s is string => typeof s === "string" && s.length >= 4).reduce((t, s) => t.split(s).join("[REDACTED]"), text);
}
