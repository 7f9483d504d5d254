import { type Millis, asMillis } from "../../src/time.js";

/** Durations for test configs (SYNC_WINDOW, SYNC_LOOKBACK): milliseconds, typed as such. */
export const days = (n: number): Millis => asMillis(n * 86_400_000);
export const hours = (n: number): Millis => asMillis(n * 3_600_000);
export const ms = (n: number): Millis => asMillis(n);
