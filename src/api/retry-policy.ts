// Which failed attempts are worth another one, and how long the server asked us to wait. Pure, so
// the table is tested without a server. The client throws what this says is final as p-retry's
// AbortError and everything else bare, so p-retry alone decides (see GenerectClient.get).
import got from "got";

/**
 * got's own table of retryable answers (source/core/options.ts): 408, 413, 429 and the 5xx it knows
 * to be transient. Read from got, not copied, so the two cannot drift.
 */
const gotRetry = got.defaults.options.retry;
const gotRetryableStatuses: readonly number[] = gotRetry.statusCodes ?? [];
/** got's retryable socket codes; a subset of what {@link isRetryable} retries (see "transport"). */
export const gotRetryableErrorCodes: readonly string[] = gotRetry.errorCodes ?? [];

/** How one attempt ended, as far as the retry decision cares. */
export type AttemptOutcome =
  /** The server answered with a status other than 200; `retryAfter`: it sent a readable Retry-After. */
  | { kind: "status"; status: number; retryAfter: boolean }
  /** No answer, or one cut short: a socket error, a timeout, a body that stopped mid-way. */
  | { kind: "transport"; code: string | undefined }
  /** A 200 whose body failed validation (a proxy cutting it short, a one-off HTML page). */
  | { kind: "invalid-body" }
  /** The body passed GENERECT_MAX_RESPONSE_BYTES: asking again gets the same body. */
  | { kind: "too-large" }
  /** The answer is marked X-Generect-Mode: test: the key is wrong, not the moment. */
  | { kind: "test-mode" };

/**
 * Certificate failures: retrying cannot fix them, and they must never be worked around by turning
 * verification off. Reported at once.
 */
const tlsCertificateCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

export function isTlsCertificateCode(code: string | undefined): boolean {
  return code !== undefined && tlsCertificateCodes.has(code);
}

/**
 * got's retryable statuses, with got's own rule that a 413 is retried only when the server says when
 * (calculate-retry-delay.ts), widened to every 5xx as the README promises ("429 and 5xx"). Everything
 * else 4xx is the caller's fault.
 */
export function isRetryableStatus(status: number, retryAfter = false): boolean {
  if (status >= 500 && status <= 599) return true;
  return gotRetryableStatuses.includes(status) && (status !== 413 || retryAfter);
}

/**
 * The retry decision. Transport failures are retried whatever their code, a certificate rejection
 * aside: got's `errorCodes` list only the failures before an answer, while a GET (idempotent) cut
 * mid-body (ERR_STREAM_PREMATURE_CLOSE, ERR_HTTP_CONTENT_LENGTH_MISMATCH) or by an unlisted socket
 * error (EHOSTUNREACH) is as worth repeating, and GENERECT_RETRIES bounds it.
 */
export function isRetryable(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case "status":
      return isRetryableStatus(outcome.status, outcome.retryAfter);
    case "transport":
      return !isTlsCertificateCode(outcome.code);
    case "invalid-body":
      return true;
    case "too-large":
    case "test-mode":
      return false;
  }
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP-date, capped at `maxMs` so a proxy cannot
 * park the job for hours. Undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, maxMs: number, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, Math.ceil(ms)), maxMs);
}
