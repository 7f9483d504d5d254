// Daily spent credits as the database holds them and as the simulator answers them, in one shape.
import { normalizeDecimal, type SimulatorHandle } from "../../src/simulator/index.js";
import { query, type TestDatabase } from "./database.js";

/** spent_credits_daily as {day: {endpoint: credits}} for one timezone. */
export async function dailyFromDatabase(db: TestDatabase, timezone: string, account = "acct") {
  const rows = await query<{ day: string; endpoint: string; credits: string }>(
    db.url,
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, endpoint, credits::text FROM spent_credits_daily WHERE account = $2 AND timezone = $1`,
    [timezone, account],
  );
  const out: Record<string, Record<string, string>> = {};
  for (const r of rows) {
    out[r.day] ??= {};
    out[r.day]![r.endpoint] = normalizeDecimal(r.credits);
  }
  return out;
}

export function dailyFromSimulator(sim: SimulatorHandle, timezone: string, startDate: string, endDate: string) {
  const answer = sim.ledger.spentCredits({ timezone, period: "day", startDate, endDate });
  const out: Record<string, Record<string, string>> = {};
  for (const [key, labels] of Object.entries(answer.spent_credits)) {
    out[key.slice(0, 10)] = Object.fromEntries(Object.entries(labels).map(([label, value]) => [label, normalizeDecimal(value)]));
  }
  return out;
}
