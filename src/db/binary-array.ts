// One-dimensional Postgres arrays in the binary wire format, for the loader's `$n::type[]`
// parameters. node-postgres sends a Buffer parameter as binary, and Postgres then reads each
// element by copying it: a uuid's 16 bytes, a timestamptz's 8, a text's bytes as they are. The
// same arrays as text literals cost the backend about 2.2 µs a row to parse (timestamps, uuids,
// the raw rows' quoting), a sixth of a backfill's insert (README, "Storage v2").
//
// Layout (array_recv): int32 dimensions (1), int32 has-nulls flag, uint32 element type oid, int32
// length, int32 lower bound (1); then per element an int32 byte length (-1 for NULL) and the bytes.
import type { Micros } from "../time.js";

const uuidOid = 2950;
const timestamptzOid = 1184;
const textOid = 25;
const headerBytes = 20;
/** Postgres counts timestamps from 2000-01-01 UTC, not from the Unix epoch. */
const postgresEpochMicros = 946_684_800_000_000;
const twoTo32 = 4_294_967_296;

function header(oid: number, length: number, hasNulls: boolean, totalBytes: number): Buffer {
  const buffer = Buffer.allocUnsafe(totalBytes);
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4);
  buffer.writeUInt32BE(oid, 8);
  buffer.writeInt32BE(length, 12);
  buffer.writeInt32BE(1, 16);
  return buffer;
}

/** The value of each hex digit's char code (0-9, a-f, A-F); -1 for any other. */
const hexValue = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 16; digit++) {
  hexValue["0123456789abcdef".charCodeAt(digit)] = digit;
  hexValue["0123456789ABCDEF".charCodeAt(digit)] = digit;
}
/** Where each of a uuid's 16 bytes begins in its hyphenated text (8-4-4-4-12 digits). */
const uuidByteAt = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/**
 * uuid[] from lowercase or uppercase hyphenated uuids (the caller has validated them). The digits
 * are read here, two to a byte: Buffer#write per hex group was five calls into C++ and five
 * substrings a row.
 */
export function uuidArray(ids: readonly string[]): Buffer {
  const buffer = header(uuidOid, ids.length, false, headerBytes + ids.length * 20);
  let at = headerBytes;
  for (const id of ids) {
    if (id.length !== 36) throw new TypeError(`not a uuid: ${JSON.stringify(id)}`);
    buffer.writeInt32BE(16, at);
    for (let i = 0; i < 16; i++) {
      const from = uuidByteAt[i]!;
      const high = hexValue[id.charCodeAt(from)] ?? -1;
      const low = hexValue[id.charCodeAt(from + 1)] ?? -1;
      if ((high | low) < 0) throw new TypeError(`not a uuid: ${JSON.stringify(id)}`);
      buffer[at + 4 + i] = (high << 4) | low;
    }
    at += 20;
  }
  return buffer;
}

/** timestamptz[] from whole microseconds since the Unix epoch; null elements are NULL. */
export function timestamptzArray(instants: readonly (Micros | null)[]): Buffer {
  const buffer = header(timestamptzOid, instants.length, instants.includes(null), headerBytes + instants.length * 12);
  let at = headerBytes;
  for (const instant of instants) {
    if (instant === null) {
      buffer.writeInt32BE(-1, at);
      at += 4;
      continue;
    }
    buffer.writeInt32BE(8, at);
    const since2000 = instant - postgresEpochMicros;
    if (Number.isSafeInteger(since2000)) {
      // An int64 as two 32-bit halves: exact, without a BigInt per element.
      const high = Math.floor(since2000 / twoTo32);
      buffer.writeInt32BE(high, at + 4);
      buffer.writeUInt32BE(since2000 - high * twoTo32, at + 8);
    } else {
      // Before about 1715 the difference leaves a double's exact integers, though the instant did not.
      buffer.writeBigInt64BE(BigInt(instant) - BigInt(postgresEpochMicros), at + 4);
    }
    at += 12;
  }
  return buffer.subarray(0, at);
}

/**
 * text[] from strings as UTF-8; null elements are NULL. The strings hold no NUL (Postgres text
 * cannot) and are well-formed UTF-16 (see sanitiseText; JSON texts escape both).
 */
export function textArray(values: readonly (string | null)[]): Buffer {
  let total = headerBytes;
  for (const value of values) total += 4 + (value === null ? 0 : Buffer.byteLength(value, "utf8"));
  const buffer = header(textOid, values.length, values.includes(null), total);
  let at = headerBytes;
  for (const value of values) {
    if (value === null) {
      buffer.writeInt32BE(-1, at);
      at += 4;
      continue;
    }
    const written = buffer.write(value, at + 4, "utf8");
    buffer.writeInt32BE(written, at);
    at += 4 + written;
  }
  return buffer;
}
