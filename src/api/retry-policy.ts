// Which failures are worth another attempt, and how long the server asked us to wait.
// Pure, so the table is tested without a server.

/** HTTP statuses that mean "try again later". Everything else 4xx is the caller's fault. */
const retryableStatuses = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Socket-level failures a later attempt can get past. */
const retryableNetworkCodes = new Set([
  "ECONNRESET", // connection dropped mid-body
  "ECONNREFUSED", // server (or proxy) restarting
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT", // got's timeout code as well as the socket's
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EAI_AGAIN", // transient DNS failure
  "ENOTFOUND", // transient in containers before DNS is up; bounded by the retry budget
  "ERR_STREAM_PREMATURE_CLOSE",
]);

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

export function isRetryableStatus(status: number): boolean {
  return retryableStatuses.has(status) || (status >= 500 && status <= 599);
}

export function isRetryableNetworkCode(code: string | undefined): boolean {
  return code !== undefined && retryableNetworkCodes.has(code);
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
