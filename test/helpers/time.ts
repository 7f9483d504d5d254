import { asMicros, asMillis, type Micros, type Millis } from "../../src/time.js";

/** One day and one hour in milliseconds, as plain numbers for arithmetic on Dates and epoch milliseconds. */
export const dayMs = 86_400_000;
export const hourMs = 3_600_000;

/** Durations for test configs (SYNC_WINDOW, SYNC_LOOKBACK): milliseconds, typed as such. */
export const days = (n: number): Millis => asMillis(n * dayMs);
export const hours = (n: number): Millis => asMillis(n * hourMs);
export const ms = (n: number): Millis => asMillis(n);

/** The instant n days after the epoch, in microseconds (what the planner works in). */
export const dayMicros = (n: number): Micros => asMicros(n * dayMs * 1000);
