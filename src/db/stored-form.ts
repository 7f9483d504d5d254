// The text Postgres gives back for a value the sync sends, foreseen without asking it: what the
// writers that compute from the rows they send (a fresh window's chain leaves and rollups) rely on.
// A value whose stored form is not foreseeable here gives undefined, and its caller asks Postgres.
import { formatApiTimestamp, type Micros } from "../time.js";

/** A JSON number without exponent: Postgres' numeric reads it keeping every digit and writes it back the same. */
const plainDecimal = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const negativeZero = /^-0(?:\.0+)?$/;

/** The text Postgres' numeric gives back for a number literal; undefined when not foreseeable here (an exponent). */
export function storedNumeric(literal: string): string | undefined {
  if (!plainDecimal.test(literal)) return undefined;
  return negativeZero.test(literal) ? literal.slice(1) : literal; // numeric has no negative zero
}

/**
 * An instant as the chain writes it ("YYYY-MM-DDTHH:MM:SS.ffffff" UTC); undefined for microseconds a
 * double does not hold exactly (before about 1685 or after 2255), whose text this cannot vouch for.
 */
export function storedInstant(micros: Micros): string | undefined {
  return Number.isSafeInteger(micros) ? formatApiTimestamp(micros) : undefined;
}
