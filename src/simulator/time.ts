// Naive-UTC timestamps as the API writes them ("2025-01-07T13:01:15.397996"). All stored values use
// this fixed 26-character form, so comparing the strings compares the instants: the ledger sorts and
// binary-searches on them without ever building a Date.

import { dateUTC, floor, toNumber } from "./intrinsics.js";

// Formatting writes digits into a scratch buffer and decodes it once: that yields one flat 26-byte
// string per timestamp, where Date#toISOString + slice + concat leaves a chain of string pieces
// (several times the memory, which matters for a million-row ledger) and runs slower.
const scratch = Buffer.alloc(26);
const ZERO = 48;

function writeDigits(pos: number, value: number, width: number): void {
  for (let i = pos + width - 1; i >= pos; i--) {
    scratch[i] = ZERO + (value % 10);
    value = floor(value / 10);
  }
}

/** Microseconds since the epoch → naive UTC text with exactly 6 fraction digits. */
export function formatMicros(epochMicros: number): string {
  const ms = floor(epochMicros / 1000);
  const days = floor(ms / 86_400_000);
  const msOfDay = ms - days * 86_400_000;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const z = days + 719_468;
  const era = floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = floor((doe - floor(doe / 1460) + floor(doe / 36_524) - floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100));
  const mp = floor((5 * doy + 2) / 153);
  const day = doy - floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be written as naive datetime text`);
  writeDigits(0, year, 4);
  scratch[4] = 45; // -
  writeDigits(5, month, 2);
  scratch[7] = 45;
  writeDigits(8, day, 2);
  scratch[10] = 84; // T
  writeDigits(11, floor(msOfDay / 3_600_000), 2);
  scratch[13] = 58; // :
  writeDigits(14, floor(msOfDay / 60_000) % 60, 2);
  scratch[16] = 58;
  writeDigits(17, floor(msOfDay / 1000) % 60, 2);
  scratch[19] = 46; // .
  writeDigits(20, (msOfDay % 1000) * 1000 + (epochMicros - ms * 1000), 6);
  return scratch.toString("latin1", 0, 26);
}

export function formatDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error("invalid Date");
  return formatMicros(date.getTime() * 1000);
}

/**
 * Current time with microseconds, so rows added in one millisecond still order by creation.
 * `offsetMs` shifts it: a simulator whose clock runs ahead of (or behind) the job's.
 */
export function nowNaive(offsetMs = 0): string {
  return formatMicros(floor((performance.timeOrigin + performance.now() + offsetMs) * 1000));
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Reads a date or datetime the way the API's filters do and returns the canonical naive-UTC text,
 * or undefined when the value is not a real calendar instant (the caller then drops the filter,
 * which is what the real server does with values it cannot read). A bare date means midnight UTC;
 * an explicit offset is converted to UTC.
 */
export function parseNaive(text: string): string | undefined {
  const m = DATETIME_RE.exec(text.trim());
  if (!m) return undefined;
  const [, ys, mos, ds, hs = "0", mis = "0", ss = "0", fs = "", zone] = m;
  const y = Number(ys),
    mo = Number(mos),
    d = Number(ds),
    h = Number(hs),
    mi = Number(mis),
    s = Number(ss);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 onto 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (date.getUTCDate() !== d) return undefined; // e.g. 2025-02-30
  const ms = date.getTime();
  let offsetMinutes = 0;
  if (zone && zone !== "Z") {
    const digits = zone.replace(":", "");
    const oh = Number(digits.slice(1, 3)),
      om = Number(digits.slice(3, 5));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  const micros = (ms - offsetMinutes * 60_000) * 1000 + Number(fs.padEnd(6, "0") || "0");
  return formatMicros(micros);
}

/** A yyyy-mm-dd calendar date, validated; undefined otherwise. */
export function parseDateOnly(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  return parseNaive(text)?.slice(0, 10);
}

/** Milliseconds since the epoch of a canonical naive-UTC string (sub-millisecond part dropped). */
export function naiveToMs(naive: string): number {
  return dateUTC(
    toNumber(naive.slice(0, 4)),
    toNumber(naive.slice(5, 7)) - 1,
    toNumber(naive.slice(8, 10)),
    toNumber(naive.slice(11, 13)),
    toNumber(naive.slice(14, 16)),
    toNumber(naive.slice(17, 19)),
    toNumber(naive.slice(20, 23)),
  );
}

/** Microseconds since the epoch of a canonical naive-UTC string. */
export function naiveToMicros(naive: string): number {
  return naiveToMs(naive) * 1000 + toNumber(naive.slice(23, 26));
}
