/**
 * Instants as whole microseconds since the Unix epoch. The API and Postgres both keep microseconds;
 * a JS Date keeps milliseconds, so a Date would silently move rows across window edges.
 * (A double holds these integers exactly until the year 2255.)
 */
declare const unit: unique symbol;
export type Micros = number & { readonly [unit]: "µs" };

/** Durations as configured (SYNC_LOOKBACK, SYNC_WINDOW, timeouts): milliseconds, never mixed with Micros by accident. */
export type Millis = number & { readonly [unit]: "ms" };

/** A number known to be microseconds (read from the API, Postgres or arithmetic on Micros). */
export const asMicros = (n: number): Micros => n as Micros;

export const asMillis = (n: number): Millis => n as Millis;

export const millisToMicros = (ms: Millis): Micros => (ms * 1000) as Micros;

/** `at` moved by `by` microseconds. */
export const addMicros = (at: Micros, by: number): Micros => (at + by) as Micros;

/** The earliest of the instants given, skipping the unknown ones; undefined when none is known. */
export function earliest(...instants: (Micros | undefined)[]): Micros | undefined {
  const known = instants.filter((at): at is Micros => at !== undefined);
  return known.length === 0 ? undefined : asMicros(Math.min(...known));
}

/** A half-open span of instants: [from, to). */
export interface Span {
  from: Micros;
  to: Micros;
}

const timestampPattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The number written at [from, from + length) of `text`, or -1 when a character there is not a digit. */
function digitsAt(text: string, from: number, length: number): number {
  let value = 0;
  for (let i = from; i < from + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The instant of a calendar date and wall time in UTC; undefined for 2025-02-30, 25:00 and friends. */
function utcMicros(year: number, month: number, day: number, hour: number, minute: number, second: number, fraction: number) {
  // Checked by hand, not through a Date (a third of a row's parsing, profiled).
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC reads the years 0-99 as 1900-1999, and a double holds microseconds exactly only from
  // about 1685 to 2255: an instant outside is not one the job can keep (such a row is quarantined).
  if (year < 100) return undefined;
  const micros = Date.UTC(year, month - 1, day, hour, minute, second) * 1000 + fraction;
  return Number.isSafeInteger(micros) ? (micros as Micros) : undefined;
}

/**
 * The API's own form, `yyyy-mm-ddTHH:MM:SS.ffffff`, read in place: every row has two, and the
 * pattern's match (an array of nine strings each) was most of what reading them allocated.
 * false: not that form (the pattern decides).
 */
function parseApiForm(text: string): Micros | undefined | false {
  if (
    text.length !== 26 ||
    text[4] !== "-" ||
    text[7] !== "-" ||
    text[10] !== "T" ||
    text[13] !== ":" ||
    text[16] !== ":" ||
    text[19] !== "."
  )
    return false;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const fraction = digitsAt(text, 20, 6);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || fraction < 0) return false;
  return utcMicros(year, month, day, hour, minute, second, fraction);
}

/** Parses the API's naive datetimes (UTC by contract), date-only values, or ISO strings with an offset. */
export function parseTimestamp(text: string): Micros | undefined {
  const apiForm = parseApiForm(text);
  if (apiForm !== false) return apiForm;
  const m = timestampPattern.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  let micros = utcMicros(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(6, "0")));
  if (micros === undefined) return undefined;
  if (zone && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    micros = (micros - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000_000) as Micros;
  }
  return micros;
}

const microsPerDay = 86_400_000_000;
const twoDigits = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * "yyyy-mm-dd" of a day counted from 1970-01-01 (Hinnant's civil_from_days), for years 0 to 9999;
 * undefined beyond. Arithmetic instead of Date#toISOString, which was 4% of a fleet's CPU.
 */
function civilDate(days: number): string | undefined {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // March is 0
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return undefined;
  return `${String(year).padStart(4, "0")}-${twoDigits(month)}-${twoDigits(day)}`;
}

/** The API's own datetime format, `yyyy-mm-ddTHH:MM:SS.ssssss`, in UTC. */
export function formatApiTimestamp(micros: Micros): string {
  if (Number.isSafeInteger(micros)) {
    const days = Math.floor(micros / microsPerDay);
    const date = civilDate(days);
    if (date !== undefined) {
      const ofDay = micros - days * microsPerDay;
      const seconds = Math.floor(ofDay / 1_000_000);
      const fraction = String(ofDay - seconds * 1_000_000).padStart(6, "0");
      return `${date}T${twoDigits(Math.floor(seconds / 3600))}:${twoDigits(Math.floor(seconds / 60) % 60)}:${twoDigits(seconds % 60)}.${fraction}`;
    }
  }
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2025-01-07T13:01:15.397Z
  const fraction = String(micros - Math.floor(micros / 1_000_000) * 1_000_000).padStart(6, "0");
  return `${iso.slice(0, 19)}.${fraction}`;
}

/**
 * ISO 8601 with microseconds and `Z`: what the logs and messages show, and a value Postgres reads
 * as timestamptz without losing the microseconds.
 */
export function formatInstant(micros: Micros): string {
  return `${formatApiTimestamp(micros)}Z`;
}

export function fromDate(date: Date): Micros {
  return (date.getTime() * 1000) as Micros;
}

export function toDate(micros: Micros): Date {
  return new Date(Math.floor(micros / 1000));
}
