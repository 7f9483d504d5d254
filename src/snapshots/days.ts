// Calendar days local to an IANA timezone. Generect's spent_credits buckets start at the local
// start of a day ("2025-03-09T00:00:00" in the requested timezone, no offset), so the sync needs
// the local date of an instant and the local start of a date, DST days included.

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timezone: string): Intl.DateTimeFormat {
  let f = formats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formats.set(timezone, f);
  }
  return f;
}

/** Local wall time of an instant: "YYYY-MM-DDTHH:MM:SS". */
export function localDateTime(ms: number, timezone: string): string {
  const parts = Object.fromEntries(
    format(timezone)
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

/** Local calendar date of an instant: "YYYY-MM-DD". */
export function localDate(ms: number, timezone: string): string {
  return localDateTime(ms, timezone).slice(0, 10);
}

export function isDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * The bucket key of a local day: its first instant in local wall time. That is midnight, except
 * in zones whose DST change skips midnight, where the day starts at 01:00.
 */
export function dayBucketKey(date: string, timezone: string): string {
  // Every spent_credits bucket is checked against this key, for each account and each run: the
  // search below formats a dozen instants, which made it the fleet's costliest function. A day's
  // key never changes (the zone data is the process's), so it is computed once per zone and day.
  const memoKey = `${timezone}\u0000${date}`;
  const known = bucketKeys.get(memoKey);
  if (known !== undefined) return known;
  const key = searchDayBucketKey(date, timezone);
  if (bucketKeys.size >= maxBucketKeys) bucketKeys.clear();
  bucketKeys.set(memoKey, key);
  return key;
}

/** Zones x days remembered: a few years of history for a few dozen zones, a few MB at most. */
const maxBucketKeys = 50_000;
const bucketKeys = new Map<string, string>();

function searchDayBucketKey(date: string, timezone: string): string {
  // Offsets lie within -12h..+14h: the day's first instant is within 15 hours of UTC midnight.
  let low = Date.parse(`${date}T00:00:00Z`) / 60_000 - 15 * 60;
  let high = low + 30 * 60;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (localDate(middle * 60_000, timezone) >= date) high = middle;
    else low = middle + 1;
  }
  return localDateTime(low * 60_000, timezone);
}

/** [from, to] cut into consecutive inclusive ranges of at most `size` days. */
export function dayChunks(from: string, to: string, size: number): [string, string][] {
  const chunks: [string, string][] = [];
  for (let start = from; start <= to; start = addDays(start, size)) {
    const end = addDays(start, size - 1);
    chunks.push([start, end < to ? end : to]);
  }
  return chunks;
}
