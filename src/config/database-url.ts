// Small helpers for PostgreSQL connection URLs (postgres://user:password@host:port/database?options).
// They exist so that nothing ever logs a password and so that callers can point a URL at another
// database without string surgery.

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Replaces the password of a connection URL with `***`, leaving everything else readable.
 * URLs without a password are returned unchanged (apart from WHATWG normalisation). Strings that
 * are not parseable URLs are redacted conservatively: everything between `user:` and the last `@`
 * is hidden, as is any libpq `password=...` keyword.
 */
export function redactUrl(url: string): string {
  if (SCHEME.test(url)) {
    try {
      const u = new URL(url);
      if (u.password === "") {
        // "postgres://u:12?x@h/db" parses as host "u", port 12 and no credentials at all; if the
        // string still has an "@" and the parser found no user, redact conservatively.
        return u.username === "" && url.includes("@") ? redactLoosely(url) : url;
      }
      // Rebuild by hand: assigning u.password would percent-encode the asterisks on some schemes.
      const user = u.username;
      const host = u.host;
      return `${u.protocol}//${user}:***@${host}${u.pathname}${u.search}${u.hash}`;
    } catch {
      // Unparseable (e.g. an un-encoded "/" or "#" in the password): hide everything up to the last "@".
      return redactLoosely(url);
    }
  }
  // libpq keyword/value form: host=... password=secret dbname=...
  return url.replace(/(\bpassword\s*=\s*)'(?:[^'\\]|\\.)*'/gi, "$1***").replace(/(\bpassword\s*=\s*)[^\s']\S*/gi, "$1***");
}

function redactLoosely(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):.*@(?=[^@]*$)/i, "$1:***@");
}

/**
 * Returns `url` pointing at `database` instead of whatever database it named. Credentials, host,
 * port and query parameters are kept as they are (the password stays percent-encoded).
 */
export function withDatabase(url: string, database: string): string {
  if (database === "") throw new Error("withDatabase: database name must not be empty");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`withDatabase: not a valid connection URL: ${redactUrl(url)}`);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`withDatabase: expected a postgres:// or postgresql:// URL, got ${redactUrl(url)}`);
  }
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The password in a connection URL, decoded (for scrubbing it from output), or undefined. */
export function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
