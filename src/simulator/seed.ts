// Deterministic, realistic-looking ledgers. The same options always give the same rows (ids
// included), so a failing test can be replayed. What "realistic" means here, from the API notes:
//  - activity comes in bursts (one search charges many rows seconds apart), spread over [from, to);
//  - the oldest ~35% of the span uses the legacy per-endpoint balance types (counters that run
//    negative, like the published example), later rows are overwhelmingly `platform`;
//  - charges are often tiny and fractional (-0.01, -0.5, -2.25), so float handling shows up as bugs;
//  - `platform` is topped up (+250…+2500) whenever it runs low; refunds repay an earlier charge;
//  - ~1.5% of charges end in `error` (reversed); rows from the last 60 s before `to` are still
//    `pending` with updated_at == created_at, older rows settled 30–60 s after creation;
//  - after_balance is the exact running balance per balance_type in created_at order:
//    after_balance = previous after_balance of that type + amount, whatever the status
//    (the same rule Ledger.add applies).
// Timestamps are strictly increasing, so that order is unambiguous.

import { DESCRIPTIONS, LEGACY_BALANCE_TYPES } from "./catalog.js";
import { formatUnits, parseUnits } from "./decimal.js";
import { floor, log, min } from "./intrinsics.js";
import { intBetween, mulberry32, type Rng, uuidFrom, weighted } from "./prng.js";
import { formatMicros } from "./time.js";
import type { SimTransaction, TxStatus } from "./types.js";

export interface SeedOptions {
  seed?: number;
  rows: number;
  from: Date;
  to: Date;
}

type Table = readonly (readonly [string, number])[];

const CHARGES: Readonly<Record<string, Table>> = {
  leads_by_icp: [
    ["-10", 30],
    ["-1", 20],
    ["-5", 15],
    ["-25", 5],
    ["-2.5", 5],
    ["-0.5", 5],
  ],
  lead_by_link: [
    ["-1", 50],
    ["-0.5", 20],
    ["-2", 10],
  ],
  companies_by_icp: [
    ["-1", 30],
    ["-3", 20],
    ["-0.25", 10],
  ],
  company_by_link: [
    ["-1", 60],
    ["-0.5", 20],
  ],
  email_finder: [
    ["-1", 40],
    ["-0.5", 30],
    ["-0.1", 10],
  ],
  email_verifier: [
    ["-0.01", 60],
    ["-0.05", 20],
    ["-0.1", 10],
  ],
  platform: [
    ["-0.01", 25],
    ["-0.02", 10],
    ["-0.05", 10],
    ["-0.1", 10],
    ["-0.25", 8],
    ["-0.5", 10],
    ["-1", 10],
    ["-2.25", 6],
    ["-3", 4],
    ["-5", 3],
    ["-10", 2],
    ["-0.015", 2],
    ["-12.75", 1],
  ],
};
const LEGACY_MIX: Table = [
  ["leads_by_icp", 35],
  ["email_verifier", 20],
  ["email_finder", 15],
  ["lead_by_link", 12],
  ["companies_by_icp", 10],
  ["company_by_link", 8],
];
const TOP_UPS: Table = [
  ["500", 5],
  ["1000", 4],
  ["250", 2],
  ["2500", 1],
];
const PLATFORM_DESCRIPTIONS = LEGACY_BALANCE_TYPES.map((t) => DESCRIPTIONS[t]!);
const LOW_PLATFORM_BALANCE = 50_000_000n; // 50 credits, in micro-units

const PLATFORM_ERA_STARTS = 0.35; // fraction of the span
const PENDING_WINDOW_US = 60_000_000;
const REFUND_RATE = 0.004;
const ERROR_RATE = 0.015;

export function seedTransactions(opts: SeedOptions): SimTransaction[] {
  const rng = mulberry32(opts.seed ?? 1);
  const n = Math.max(0, floor(opts.rows));
  const fromUs = opts.from.getTime() * 1000;
  const toUs = opts.to.getTime() * 1000;
  if (!(toUs > fromUs) || n > toUs - fromUs) throw new Error("seedTransactions: need from < to and room for one row per microsecond");
  const times = burstyTimes(rng, n, fromUs, toUs);
  const platformFromUs = fromUs + (toUs - fromUs) * PLATFORM_ERA_STARTS;

  const balances = new Map<string, bigint>();
  const lastCharge = new Map<string, SimTransaction>();
  const out: SimTransaction[] = new Array(n);
  let burstType = "platform";
  for (let i = 0; i < n; i++) {
    const t = times[i]!;
    // Rows of one burst usually share a balance type: a burst is one client job.
    if (i === 0 || t - times[i - 1]! > 10_000_000 || rng() < 0.1) burstType = pickType(rng, t >= platformFromUs);
    const type = burstType;
    const balance = balances.get(type) ?? 0n;

    let amount: string;
    let description: string;
    let kind: "charge" | "topup" | "refund" = "charge";
    const refundable = lastCharge.get(type);
    if (type === "platform" && (balance < LOW_PLATFORM_BALANCE || rng() < 0.0005)) {
      kind = "topup";
      amount = weighted(rng, TOP_UPS);
      description = "balance top-up";
    } else if (refundable && rng() < REFUND_RATE) {
      kind = "refund";
      amount = refundable.amount.slice(1); // charges are negative: drop the sign
      description = `refund: ${refundable.description} (${refundable.id})`;
      lastCharge.delete(type);
    } else {
      amount = weighted(rng, CHARGES[type]!);
      description =
        type === "platform" ? PLATFORM_DESCRIPTIONS[intBetween(rng, 0, PLATFORM_DESCRIPTIONS.length - 1)]! : DESCRIPTIONS[type]!;
    }

    const pending = t >= toUs - PENDING_WINDOW_US;
    const status: TxStatus = pending ? "pending" : kind === "charge" && rng() < ERROR_RATE ? "error" : "success";
    const after = balance + amountUnits(amount);
    balances.set(type, after);
    const createdAt = formatMicros(t);
    const row: SimTransaction = {
      id: uuidFrom(rng),
      created_at: createdAt,
      updated_at: pending ? createdAt : formatMicros(t + intBetween(rng, 30_000_000, 60_000_000)),
      status,
      balance_type: type,
      amount,
      description,
      after_balance: formatUnits(after),
    };
    if (kind === "charge" && status === "success") lastCharge.set(type, row);
    out[n - 1 - i] = row; // newest first, like the API
  }
  return out;
}

// Amount texts repeat (they come from small tables), so parse each once.
const unitsCache = new Map<string, bigint>();
function amountUnits(amount: string): bigint {
  let units = unitsCache.get(amount);
  if (units === undefined) {
    units = parseUnits(amount);
    unitsCache.set(amount, units);
  }
  return units;
}

function pickType(rng: Rng, platformEra: boolean): string {
  if (platformEra && rng() < 0.95) return "platform";
  return platformEra || rng() >= 0.04 ? weighted(rng, LEGACY_MIX) : "platform";
}

/** n strictly increasing microsecond timestamps in [fromUs, toUs), clustered into bursts. */
function burstyTimes(rng: Rng, n: number, fromUs: number, toUs: number): Float64Array {
  const span = toUs - fromUs;
  const times = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let t = fromUs + floor(rng() * span);
    const size = min(n - i, 1 + floor(-log(1 - rng()) * 4)); // geometric-ish, mean ~4
    for (let k = 0; k < size; k++, i++) {
      times[i] = min(t, toUs - 1);
      t += floor(rng() * 3_000_000) + 1; // up to 3 s apart
    }
  }
  times.sort();
  for (let i = 1; i < n; i++) if (times[i]! <= times[i - 1]!) times[i] = times[i - 1]! + 1;
  // Pushing collisions forward may overrun `to`; pull the tail back (n <= span guarantees room).
  for (let i = n - 1, limit = toUs - 1; i >= 0 && times[i]! > limit; i--, limit--) times[i] = limit;
  return times;
}
