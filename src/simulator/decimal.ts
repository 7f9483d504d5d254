// Exact money arithmetic. Amounts such as -0.01 must sum to exactly -100 over 10,000 rows, which
// IEEE doubles cannot promise, so money is fixed-point BigInt with 6 fraction digits (micro-credits).

import { isNaNNumber, toBigInt, toNumber } from "./intrinsics.js";

export const SCALE_DIGITS = 6;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

// No exponent form: the API writes plain literals, and an exponent would let a filter value smuggle
// in more precision than the scale can hold.
const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Parses decimal text into micro-units; undefined when it is not a decimal or needs > 6 fraction digits. */
export function tryParseUnits(text: string): bigint | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return undefined;
  const [, sign = "", int = "", rawFrac = ""] = m;
  if (int === "" && rawFrac === "") return undefined;
  const frac = rawFrac.replace(/0+$/, "");
  if (frac.length > SCALE_DIGITS) return undefined;
  const units = toBigInt(int || "0") * SCALE + toBigInt(frac.padEnd(SCALE_DIGITS, "0") || "0");
  return sign === "-" ? -units : units;
}

export function parseUnits(text: string): bigint {
  const units = tryParseUnits(text);
  if (units === undefined) throw new Error(`not an exact decimal with at most ${SCALE_DIGITS} fraction digits: ${JSON.stringify(text)}`);
  return units;
}

/** Minimal decimal text: no trailing fraction zeros, no "-0" ("-10", "-0.01", "1234.5"). */
export function formatUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const int = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, "0").replace(/0+$/, "");
  const body = frac ? `${int}.${frac}` : `${int}`;
  return negative ? `-${body}` : body;
}

/** Canonical text of a decimal given as text or (for convenience in tests) a JS number. */
export function normalizeDecimal(value: string | number): string {
  return formatUnits(parseUnits(typeof value === "number" ? String(value) : value));
}

export function addDecimals(a: string, b: string): string {
  return formatUnits(parseUnits(a) + parseUnits(b));
}

/**
 * Micro-units of canonical decimal text, as an exact integer Number when it fits (the common case,
 * several times faster than BigInt when scanning a million rows) and as a BigInt otherwise. JS
 * compares Number with BigInt exactly (`<`, `>`, `==`), so callers may mix the two freely.
 */
export function unitsOf(text: string): number | bigint {
  const negative = text.charCodeAt(0) === 45; // "-"
  const dot = text.indexOf(".");
  const intDigits = (dot < 0 ? text.length : dot) - (negative ? 1 : 0);
  const fracDigits = dot < 0 ? 0 : text.length - dot - 1;
  // 9 integer digits keep int * 1e6 + frac below 2^53, where every integer is exact.
  if (intDigits < 1 || intDigits > 9 || fracDigits > SCALE_DIGITS) return tryParseUnits(text) ?? 0n;
  const int = toNumber(text.slice(negative ? 1 : 0, dot < 0 ? text.length : dot));
  const frac = fracDigits === 0 ? 0 : toNumber(text.slice(dot + 1)) * 10 ** (SCALE_DIGITS - fracDigits);
  if (isNaNNumber(int) || isNaNNumber(frac)) return tryParseUnits(text) ?? 0n;
  const abs = int * 1_000_000 + frac;
  return negative ? -abs : abs;
}
