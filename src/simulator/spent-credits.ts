// The spent_credits aggregation.
//
// COUNTING RULE (the sync's reconciliation relies on it): a row counts as spent only when
// amount < 0 AND status == "success". Pending rows are reservations that may still fail, error rows
// are reversed charges, and positive rows (top-ups, refunds) are not spending, so none of them count.
//
// Rows are grouped by the start of their bucket in local time of the requested timezone (day;
// week starting Monday; month; quarter starting on its first day; year) and by endpoint label.
// start_date/end_date are inclusive local calendar dates. Sums are exact (fixed-point BigInt).

import { formatUnits, unitsOf } from "./decimal.js";
import { floor, toBigInt } from "./intrinsics.js";
import { naiveToMs, parseDateOnly } from "./time.js";
import { BadRequestError, type SimTransaction, SPENT_PERIODS, type SpentPeriod } from "./types.js";

export interface SpentCreditsParams {
  timezone: string;
  period: SpentPeriod;
  startDate: string;
  endDate: string;
}

export interface SpentCreditsResult {
  spent_credits: Record<string, Record<string, string>>;
  total_spent_credits: string;
}

/** Endpoint label per balance_type, in the order labels are listed inside a bucket. */
export const ENDPOINT_LABELS: Readonly<Record<string, string>> = {
  leads_by_icp: "/api/linkedin/leads/by_icp/",
  lead_by_link: "/api/linkedin/lead/by_link/",
  companies_by_icp: "/api/linkedin/companies/by_icp/",
  company_by_link: "/api/linkedin/company/by_link/",
  email_finder: "/api/linkedin/email_finder/",
  email_verifier: "/api/linkedin/email_verifier/",
  platform: "platform",
};
const LABEL_ORDER = Object.values(ENDPOINT_LABELS);

// Zone offsets are integral minutes and, for any modern zone, change only on a quarter-hour of UTC,
// so one Intl lookup per 15-minute slot serves every row in it. Intl is far too slow per row for
// a million-row ledger.
const SLOT_MS = 15 * 60_000;
const zoneCache = new Map<string, { fmt: Intl.DateTimeFormat; offsets: Map<number, number> }>();

function zone(timezone: string) {
  let z = zoneCache.get(timezone);
  if (!z) {
    const fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    z = { fmt, offsets: new Map() };
    zoneCache.set(timezone, z);
  }
  return z;
}

/** Offset (ms) of the zone at a UTC instant: local wall clock minus UTC. */
function offsetMs(timezone: string, utcMs: number): number {
  const z = zone(timezone);
  const slot = floor(utcMs / SLOT_MS);
  let off = z.offsets.get(slot);
  if (off === undefined) {
    const at = slot * SLOT_MS;
    const p: Record<string, number> = {};
    for (const part of z.fmt.formatToParts(at)) if (part.type !== "literal") p[part.type] = Number(part.value);
    off = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - at;
    z.offsets.set(slot, off);
  }
  return off;
}

const DAY_MS = 86_400_000;

/** Local calendar day of a naive-UTC timestamp in the zone, as days since 1970-01-01. */
function localDayNumber(timezone: string, naive: string): number {
  const utc = naiveToMs(naive);
  return floor((utc + offsetMs(timezone, utc)) / DAY_MS);
}

function bucketStart(day: Date, period: SpentPeriod): Date {
  const y = day.getUTCFullYear(),
    m = day.getUTCMonth(),
    d = day.getUTCDate();
  switch (period) {
    case "day":
      return day;
    case "week":
      return new Date(Date.UTC(y, m, d - ((day.getUTCDay() + 6) % 7)));
    case "month":
      return new Date(Date.UTC(y, m, 1));
    case "quarter":
      return new Date(Date.UTC(y, m - (m % 3), 1));
    case "year":
      return new Date(Date.UTC(y, 0, 1));
  }
}

/** Validates raw query values; throws BadRequestError with the detail the server should send. */
export function validateSpentParams(
  raw: Partial<Record<"timezone" | "period" | "start_date" | "end_date", string | null>>,
): SpentCreditsParams {
  for (const name of ["timezone", "period", "start_date", "end_date"] as const) {
    if (!raw[name]) throw new BadRequestError(`${name}: This field is required.`);
  }
  const { timezone = "", period = "", start_date = "", end_date = "" } = raw as Record<string, string>;
  if (!SPENT_PERIODS.includes(period as SpentPeriod)) {
    throw new BadRequestError(`period: "${period}" is not a valid choice (${SPENT_PERIODS.join(", ")}).`);
  }
  // Intl also takes "+05:30"; Python's zoneinfo (behind the real API) takes IANA names only.
  let validZone = !/^[+-]/.test(timezone);
  try {
    zone(timezone);
  } catch {
    validZone = false;
  }
  if (!validZone) throw new BadRequestError(`timezone: unknown time zone "${timezone}".`);
  const startDate = parseDateOnly(start_date);
  if (!startDate) throw new BadRequestError("start_date: Date has wrong format. Use one of these formats instead: YYYY-MM-DD.");
  const endDate = parseDateOnly(end_date);
  if (!endDate) throw new BadRequestError("end_date: Date has wrong format. Use one of these formats instead: YYYY-MM-DD.");
  return { timezone, period: period as SpentPeriod, startDate, endDate };
}

/**
 * Aggregates spending. `candidates(min, max)` must yield at least every row whose created_at lies in
 * [min, max] (naive-UTC text); the exact local-date check happens here.
 */
export function computeSpentCredits(
  candidates: (min: string, max: string) => Iterable<SimTransaction>,
  input: SpentCreditsParams,
): SpentCreditsResult {
  const params = validateSpentParams({
    timezone: input.timezone,
    period: input.period,
    start_date: input.startDate,
    end_date: input.endDate,
  });
  const { timezone, period, startDate, endDate } = params;
  // No zone is more than 14 h from UTC, so a day of margin each side is a safe superset.
  const startDay = Date.parse(`${startDate}T00:00:00Z`) / DAY_MS;
  const endDay = Date.parse(`${endDate}T00:00:00Z`) / DAY_MS;
  const min = `${new Date((startDay - 1) * DAY_MS).toISOString().slice(0, 10)}T00:00:00.000000`;
  const max = `${new Date((endDay + 2) * DAY_MS).toISOString().slice(0, 10)}T00:00:00.000000`;

  const bucketOfDay = new Map<number, number>();
  const buckets = new Map<number, Map<string, bigint>>();
  let total = 0n;
  for (const row of candidates(min, max)) {
    if (row.status !== "success") continue;
    const units = unitsOf(row.amount);
    if (!(units < 0)) continue;
    const day = localDayNumber(timezone, row.created_at);
    if (day < startDay || day > endDay) continue;
    let key = bucketOfDay.get(day);
    if (key === undefined) {
      key = bucketStart(new Date(day * DAY_MS), period).getTime();
      bucketOfDay.set(day, key);
    }
    const label = ENDPOINT_LABELS[row.balance_type] ?? row.balance_type;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = new Map();
      buckets.set(key, bucket);
    }
    const amount = toBigInt(units);
    bucket.set(label, (bucket.get(label) ?? 0n) + amount);
    total += amount;
  }

  const spent_credits: SpentCreditsResult["spent_credits"] = {};
  for (const key of [...buckets.keys()].sort((a, b) => b - a)) {
    const bucket = buckets.get(key)!;
    const labels = [...bucket.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const out: Record<string, string> = {};
    for (const label of labels) out[label] = formatUnits(bucket.get(label)!);
    spent_credits[`${new Date(key).toISOString().slice(0, 10)}T00:00:00`] = out;
  }
  return { spent_credits, total_spent_credits: formatUnits(total) };
}

function rank(label: string): number {
  const i = LABEL_ORDER.indexOf(label);
  return i === -1 ? LABEL_ORDER.length : i;
}
