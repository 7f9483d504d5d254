import { expect } from "@jest/globals";
import pg from "pg";
import { addDecimals } from "../../src/simulator/decimal.js";
import { normalizeDecimal, parseUnits, type SimTransaction } from "../../src/simulator/index.js";
import { naiveToMicros } from "../../src/simulator/time.js";
import { localDate } from "../../src/snapshots/days.js";
import { refreshRollups } from "../../src/sync/rollups.js";
import { asMicros } from "../../src/time.js";
import { query } from "./database.js";

// The rollups against the simulator's truth: an aggregate computed here, in JS, from the Ledger's
// rows (never from the database), compared field by field with ledger_days(zone).

export interface DayFigures {
  charges: string;
  charge_count: number;
  top_ups: string;
  top_up_count: number;
  refunds: string;
  refund_count: number;
  live_rows: number;
  closing_balance: string | null;
}

/** Per "day|balance_type|status" in `zone`, from the simulator's rows. */
export function truthDays(rows: SimTransaction[], zone: string): Map<string, DayFigures> {
  const days = new Map<string, DayFigures & { last: [string, string] }>();
  for (const row of rows) {
    const day = localDate(naiveToMicros(row.created_at) / 1000, zone);
    const key = `${day}|${row.balance_type}|${row.status}`;
    let f = days.get(key);
    if (!f) {
      f = {
        charges: "0",
        charge_count: 0,
        top_ups: "0",
        top_up_count: 0,
        refunds: "0",
        refund_count: 0,
        live_rows: 0,
        closing_balance: null,
        last: ["", ""],
      };
      days.set(key, f);
    }
    f.live_rows += 1;
    const amount = normalizeDecimal(row.amount);
    const units = parseUnits(amount);
    if (units < 0n) {
      f.charges = addDecimals(f.charges, amount);
      f.charge_count += 1;
    } else if (units > 0n) {
      if (/refund/i.test(row.description)) {
        f.refunds = addDecimals(f.refunds, amount);
        f.refund_count += 1;
      } else {
        f.top_ups = addDecimals(f.top_ups, amount);
        f.top_up_count += 1;
      }
    }
    const order: [string, string] = [row.created_at, row.id.toLowerCase()];
    if (order[0] > f.last[0] || (order[0] === f.last[0] && order[1] > f.last[1])) {
      f.last = order;
      f.closing_balance = normalizeDecimal(row.after_balance);
    }
  }
  return new Map([...days].map(([key, { last: _last, ...figures }]) => [key, figures]));
}

/** The 15-minute buckets summed into local days of $1, here and not through ledger_days (which reads the daily rollups of a registered zone). */
const bucketDays = `(SELECT account, (bucket AT TIME ZONE $1)::date AS day, balance_type, status,
    sum(charges) AS charges, sum(charge_count) AS charge_count, sum(top_ups) AS top_ups, sum(top_up_count) AS top_up_count,
    sum(refunds) AS refunds, sum(refund_count) AS refund_count, sum(live_rows) AS live_rows,
    (array_agg(closing_balance ORDER BY closing_at DESC, closing_id DESC) FILTER (WHERE closing_at IS NOT NULL))[1] AS closing_balance
  FROM ledger_rollups GROUP BY 1, 2, 3, 4) b WHERE true`;

/**
 * The same figures as the database holds them for local days of `zone`: summed from the 15-minute
 * buckets (`buckets`), as maintained in ledger_daily_rollups (`daily`), or as `ledger_days(zone)`
 * returns them (`ledger_days`: the daily rollups of a registered zone, else the buckets).
 */
export async function databaseDays(
  url: string,
  zone: string,
  account = "acct",
  source: "buckets" | "daily" | "ledger_days" = "buckets",
): Promise<Map<string, DayFigures>> {
  const from =
    source === "buckets"
      ? bucketDays
      : source === "ledger_days"
        ? "ledger_days($1) WHERE true"
        : "ledger_daily_rollups WHERE timezone = $1";
  const rows = await query<DayFigures & { day: string; balance_type: string; status: string }>(
    url,
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, balance_type, status, charges::text, charge_count::int, top_ups::text, top_up_count::int,
            refunds::text, refund_count::int, live_rows::int, closing_balance::text
     FROM ${from} AND account = $2 AND live_rows > 0`,
    [zone, account],
  );
  return new Map(
    rows.map(({ day, balance_type, status, ...f }) => [
      `${day}|${balance_type}|${status}`,
      {
        ...f,
        charges: normalizeDecimal(f.charges),
        top_ups: normalizeDecimal(f.top_ups),
        refunds: normalizeDecimal(f.refunds),
        closing_balance: f.closing_balance === null ? null : normalizeDecimal(f.closing_balance),
      },
    ]),
  );
}

/**
 * Fails naming the first days that differ when the rollups are not the aggregate of `rows`: the
 * buckets summed in each zone, ledger_days() in each zone (registered or not), and the maintained
 * daily rollups of each zone the account registered.
 */
export async function expectRollupsEqualLedger(url: string, rows: SimTransaction[], zones: string[], account = "acct"): Promise<void> {
  const registered = (await query<{ timezone: string }>(url, "SELECT timezone FROM ledger_rollup_zones WHERE account = $1", [account])).map(
    (z) => z.timezone,
  );
  const sources = [
    ...zones.map((zone) => [zone, "buckets"] as const),
    ...[...new Set([...zones, ...registered])].map((zone) => [zone, "ledger_days"] as const),
    ...registered.map((zone) => [zone, "daily"] as const),
  ];
  for (const [zone, source] of sources) {
    const truth = truthDays(rows, zone);
    const held = await databaseDays(url, zone, account, source);
    const differing = [...new Set([...truth.keys(), ...held.keys()])]
      .sort()
      .filter((key) => JSON.stringify(truth.get(key)) !== JSON.stringify(held.get(key)))
      .slice(0, 5)
      .map((key) => ({ zone, source, key, truth: truth.get(key), database: held.get(key) }));
    expect(differing).toEqual([]);
    expect(held.size).toBe(truth.size);
  }
}

const bucketColumns = (source: string) => `
  SELECT account, bucket, balance_type, status, charges::text, charge_count, top_ups::text, top_up_count, refunds::text,
         refund_count, live_rows, deleted_rows, closing_at, closing_id, closing_balance::text FROM ${source}`;

/** The aggregate as the migration that built ledger_rollups computes it, over every row held. */
const bucketAggregate = `(
  SELECT account, date_bin('15 minutes', created_at, timestamptz '2000-01-01 00:00:00+00') AS bucket, balance_type, status,
    COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount < 0), 0) AS charges,
    count(*) FILTER (WHERE deleted_at IS NULL AND amount < 0)::int AS charge_count,
    COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND NOT COALESCE(description ILIKE '%refund%', false)), 0) AS top_ups,
    count(*) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND NOT COALESCE(description ILIKE '%refund%', false))::int AS top_up_count,
    COALESCE(sum(amount) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND description ILIKE '%refund%'), 0) AS refunds,
    count(*) FILTER (WHERE deleted_at IS NULL AND amount > 0 AND description ILIKE '%refund%')::int AS refund_count,
    count(*) FILTER (WHERE deleted_at IS NULL)::int AS live_rows,
    count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted_rows,
    max(created_at) FILTER (WHERE deleted_at IS NULL) AS closing_at,
    (array_agg(id ORDER BY created_at DESC, id DESC) FILTER (WHERE deleted_at IS NULL))[1] AS closing_id,
    (array_agg(after_balance ORDER BY created_at DESC, id DESC) FILTER (WHERE deleted_at IS NULL))[1] AS closing_balance
  FROM transactions GROUP BY 1, 2, 3, 4) a`;

/**
 * Buckets of ledger_rollups that differ, in any column, from the aggregate of transactions, and
 * buckets of that aggregate ledger_rollups lacks (the first five of each): money compared as text,
 * so a scale Postgres would not give counts as a difference.
 */
export async function bucketsDifferingFromAggregate(url: string): Promise<unknown[]> {
  const differing: unknown[] = [];
  for (const [left, right] of [
    ["ledger_rollups", bucketAggregate],
    [bucketAggregate, "ledger_rollups"],
  ] as const)
    differing.push(...(await query(url, `${bucketColumns(left)} EXCEPT ${bucketColumns(right)} LIMIT 5`)));
  return differing;
}

/** Recomputes the rollup bucket holding `micros` the way the sync does at a window's commit. */
export async function refreshRollupsAt(url: string, micros: number, account = "acct"): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await refreshRollups(client, account, { from: asMicros(micros), to: asMicros(micros + 1) });
  } finally {
    await client.end();
  }
}
