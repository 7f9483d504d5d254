// Seeded randomness, so a seed reproduces a ledger byte for byte (ids included) across runs.

import { floor, imul } from "./intrinsics.js";

export type Rng = () => number; // uniform in [0, 1)

/** mulberry32: tiny, fast and good enough for test data (not for anything secret). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX_CODES = Buffer.from("0123456789abcdef", "latin1");
const uuidScratch = Buffer.from("00000000-0000-4000-8000-000000000000", "latin1");
const NIBBLE_POSITIONS = [
  0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
];

/**
 * A version-4 shaped uuid drawn from the given generator. Written into a scratch buffer and decoded
 * once, so each id is one flat string (a million ids built by concatenation cost ~5x the memory).
 */
export function uuidFrom(rng: Rng): string {
  for (let w = 0; w < 4; w++) {
    let word = floor(rng() * 4294967296);
    for (let k = 7; k >= 0; k--) {
      uuidScratch[NIBBLE_POSITIONS[w * 8 + k]!] = HEX_CODES[word & 0xf]!;
      word >>>= 4;
    }
  }
  uuidScratch[14] = 52; // version nibble "4"
  uuidScratch[19] = HEX_CODES[8 | (HEX_CODES.indexOf(uuidScratch[19]!) & 0x3)]!; // variant 10xx
  return uuidScratch.toString("latin1", 0, 36);
}

/** Integer in [min, max]. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + floor(rng() * (max - min + 1));
}

/** Picks from [value, weight] pairs. */
export function weighted<T>(rng: Rng, table: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of table) total += w;
  let r = rng() * total;
  for (const [v, w] of table) {
    r -= w;
    if (r < 0) return v;
  }
  return table[table.length - 1]![0];
}
