import { describe, expect, test } from "@jest/globals";
import got from "got";
import {
  type AttemptOutcome,
  gotRetryableErrorCodes,
  isRetryable,
  isRetryableStatus,
  parseRetryAfter,
} from "../../src/api/retry-policy.js";

const status = (code: number, retryAfter = false): AttemptOutcome => ({ kind: "status", status: code, retryAfter });
const transport = (code: string | undefined): AttemptOutcome => ({ kind: "transport", code });

describe("retry policy", () => {
  test("statuses: got's table, every 5xx, no other 4xx", () => {
    for (const code of [408, 429, 500, 502, 503, 504, 521, 522, 524]) expect(isRetryable(status(code))).toBe(true);
    // beyond got's list, as the README promises "5xx"
    for (const code of [501, 505, 507, 599]) expect(isRetryable(status(code))).toBe(true);
    for (const code of [400, 401, 402, 403, 404, 409, 422, 425, 451]) expect(isRetryable(status(code))).toBe(false);
    for (const code of [400, 401, 403, 404]) expect(isRetryable(status(code, true))).toBe(false);
  });

  test("a 413 only when the server says when, as got does", () => {
    expect(isRetryableStatus(413)).toBe(false);
    expect(isRetryableStatus(413, true)).toBe(true);
  });

  test("the table is got's own, read from got", () => {
    expect(got.defaults.options.retry.statusCodes).toContain(429);
    for (const code of got.defaults.options.retry.statusCodes ?? []) {
      expect(isRetryableStatus(code, true)).toBe(true);
    }
    expect(gotRetryableErrorCodes).toEqual(got.defaults.options.retry.errorCodes);
  });

  test("transport failures: every one got retries, a body cut short, an unlisted code; never a certificate", () => {
    expect(gotRetryableErrorCodes.length).toBeGreaterThan(0);
    for (const code of gotRetryableErrorCodes) expect(isRetryable(transport(code))).toBe(true);
    for (const code of ["ERR_STREAM_PREMATURE_CLOSE", "ERR_HTTP_CONTENT_LENGTH_MISMATCH", "EHOSTUNREACH", undefined]) {
      expect(isRetryable(transport(code))).toBe(true);
    }
    for (const code of ["ERR_TLS_CERT_ALTNAME_INVALID", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_HAS_EXPIRED", "SELF_SIGNED_CERT_IN_CHAIN"]) {
      expect(isRetryable(transport(code))).toBe(false);
    }
  });

  test("bodies: an invalid one is retried; one past the bound or in test mode is final", () => {
    expect(isRetryable({ kind: "invalid-body" })).toBe(true);
    expect(isRetryable({ kind: "too-large" })).toBe(false);
    expect(isRetryable({ kind: "test-mode" })).toBe(false);
  });

  test("Retry-After in seconds or as a date, bounded", () => {
    expect(parseRetryAfter("3", 60_000)).toBe(3000);
    expect(parseRetryAfter("0", 60_000)).toBe(0);
    expect(parseRetryAfter("3600", 60_000)).toBe(60_000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", 60_000, now)).toBe(5000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", 60_000, now)).toBe(0);
    expect(parseRetryAfter("soon", 60_000)).toBeUndefined();
    expect(parseRetryAfter(undefined, 60_000)).toBeUndefined();
  });
});
