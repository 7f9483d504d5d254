import got, { type Got, RequestError } from "got";
import pRetry from "p-retry";
import { ApiRequestError, ApiResponseError, ApiTestModeError, SyncError } from "../errors.js";
import { scrubSecrets, scrubbedExcerpt, secretScrubber } from "../secrets.js";
import {
  type SpentCredits, type TransactionsPage, type UsersMeBalances, parseSpentCredits, parseTransactionsPage, parseUsersMe,
} from "./schema.js";
import { isRetryableNetworkCode, isRetryableStatus, isTlsCertificateCode, parseRetryAfter } from "./retry-policy.js";
import { type Micros, formatApiTimestamp } from "./time.js";

export const transactionsPath = "api/auth/transactions/";
export const spentCreditsPath = "api/auth/transactions/spent_credits/";
export const usersMePath = "api/auth/users/me/";

/** The documented page size ceiling, used until the server tells its own `max_limit`. */
export const documentedMaxLimit = 100;

export interface ClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  /** Retries per request; p-retry owns them (got's own retry is off so the two never stack). */
  retries: number;
  /** A response body larger than this fails the request, not retried (API_RESPONSE_TOO_LARGE). @default 16 MiB */
  maxResponseBytes?: number;
  /** First backoff delay; doubles each retry, with jitter. @default 500 */
  minRetryDelayMs?: number;
  /** @default 30_000 */
  maxRetryDelayMs?: number;
  /** Longest `Retry-After` honoured. @default 60_000 */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  /**
   * Runs each attempt: a fleet shares one limiter among its accounts' clients, so SYNC_CONCURRENCY
   * bounds the requests in flight of the whole process. A slot is held by one attempt, never by a
   * retry's backoff. @default every attempt at once
   */
  requestSlot?: <T>(attempt: () => Promise<T>) => Promise<T>;
  onRetry?: (info: { attempt: number; reason: string; delayMs: number }) => void;
  /** Called for the first response that carries a `Deprecation` or `Sunset` header (once per client). */
  onDeprecation?: (notice: DeprecationNotice) => void;
}

/** What a deprecated endpoint announced (RFC 9745 `Deprecation`, RFC 8594 `Sunset`, their `Link`). */
export interface DeprecationNotice {
  path: string;
  deprecation?: string;
  sunset?: string;
  link?: string;
}

export interface TransactionsQuery {
  gte: Micros;
  lt: Micros;
  limit: number;
  offset: number;
  /** More of the endpoint's documented filters (e.g. `amount__gte`, `balance_type`), sent as given. */
  filters?: Readonly<Record<string, string>>;
}

export interface SpentCreditsQuery {
  timezone: string;
  period: "day" | "week" | "month" | "quarter" | "year";
  startDate: string;
  endDate: string;
}

export interface ClientStats {
  requests: number;
  retries: number;
}

/** One failed attempt, with what the retry policy needs to know. Never carries got's options (headers). */
class AttemptFailure extends Error {
  constructor(
    readonly final: SyncError,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(final.message);
  }
}

/** The header a `test_` key's answers carry (NOTES.md): their data is not the account's ledger. */
const modeHeader = "x-generect-mode";

function detailOf(body: string, secrets: string[]): string {
  try {
    const detail = (JSON.parse(body) as { detail?: unknown }).detail;
    if (typeof detail === "string") return scrubSecrets(detail, secrets);
  } catch {
    // not JSON: fall through to a short excerpt
  }
  return scrubbedExcerpt(body, 120, secrets);
}

function statusFailure(status: number, body: string, where: string, retryAfterMs: number | undefined, secrets: string[]): AttemptFailure {
  const detail = detailOf(body, secrets);
  switch (status) {
    case 401:
      return new AttemptFailure(new ApiRequestError("API_AUTH", `API token rejected (401 ${detail}): check GENERECT_API_TOKEN`, status), false);
    case 403:
      return new AttemptFailure(new ApiRequestError("API_FORBIDDEN", `API token rejected (403 ${detail}): the key has no access to the transactions of this account`, status), false);
    case 400:
      return new AttemptFailure(new ApiRequestError("API_BAD_REQUEST", `API rejected the request ${where} (400 ${detail})`, status), false);
    case 404:
      return new AttemptFailure(new ApiRequestError("API_NOT_FOUND", `API answered 404 for ${where}: check GENERECT_API_URL`, status), false);
    case 429:
      return new AttemptFailure(new ApiRequestError("API_THROTTLED", `API kept throttling ${where} (429 ${detail})`, status), true, retryAfterMs);
    default:
      return new AttemptFailure(
        new ApiRequestError(isRetryableStatus(status) ? "API_UNAVAILABLE" : "API_HTTP_ERROR", `API answered ${status} for ${where}: ${detail}`, status),
        isRetryableStatus(status),
        retryAfterMs,
      );
  }
}

function networkFailure(error: unknown, where: string, host: string, timeoutMs: number): AttemptFailure {
  const code = (error as { code?: string }).code;
  if (error instanceof RequestError && (error.name === "TimeoutError" || code === "ETIMEDOUT")) {
    return new AttemptFailure(new ApiRequestError("API_TIMEOUT", `API request ${where} timed out after ${timeoutMs} ms`), true);
  }
  const reason = code ?? (error as Error).message;
  if (isTlsCertificateCode(code)) {
    return new AttemptFailure(new ApiRequestError("API_TLS", `TLS certificate of the API at ${host} rejected (${code}) for ${where}: check GENERECT_API_URL`), false);
  }
  return new AttemptFailure(
    new ApiRequestError("API_UNREACHABLE", `could not reach the API at ${host} for ${where}: ${reason}`),
    isRetryableNetworkCode(code) || error instanceof RequestError,
  );
}

function tooLargeFailure(where: string, maxBytes: number): AttemptFailure {
  return new AttemptFailure(
    new ApiRequestError("API_RESPONSE_TOO_LARGE", `API response to ${where} exceeded ${maxBytes} bytes (GENERECT_MAX_RESPONSE_BYTES): not read further`),
    false,
  );
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** The Generect API: typed calls, validated answers, one retry policy. */
export class GenerectClient {
  readonly stats: ClientStats = { requests: 0, retries: 0 };
  /** Responses that carried a `Deprecation` or `Sunset` header. */
  deprecatedResponses = 0;
  private readonly http: Got;
  private readonly host: string;
  /** Every body is scrubbed of the token (its forms worked out once per client). */
  private readonly scrub: (text: string) => string;

  constructor(private readonly options: ClientOptions) {
    this.host = new URL(options.baseUrl).host;
    this.scrub = secretScrubber([options.token]);
    this.http = got.extend({
      prefixUrl: options.baseUrl,
      headers: { authorization: `Token ${options.token}`, accept: "application/json", "user-agent": "generect-sync" },
      timeout: { request: options.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      responseType: "text",
    });
  }

  /** One page of `GET /api/auth/transactions/` for the half-open window [gte, lt). */
  async listTransactions(query: TransactionsQuery): Promise<TransactionsPage> {
    const params = new URLSearchParams({
      created_at__gte: formatApiTimestamp(query.gte),
      created_at__lt: formatApiTimestamp(query.lt),
      limit: String(query.limit),
      offset: String(query.offset),
    });
    for (const [name, value] of Object.entries(query.filters ?? {})) params.set(name, value);
    return this.get(transactionsPath, params, parseTransactionsPage);
  }

  /** A page of the rows matching `filters` anywhere in the ledger, whatever their created_at. */
  async listMatching(filters: Readonly<Record<string, string>>, limit: number, offset: number): Promise<TransactionsPage> {
    const params = new URLSearchParams({ ...filters, limit: String(limit), offset: String(offset) });
    return this.get(transactionsPath, params, parseTransactionsPage);
  }

  /** A page of the whole ledger, unfiltered (used to find the oldest transaction). */
  async listAllTransactions(limit: number, offset: number): Promise<TransactionsPage> {
    const params = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    return this.get(transactionsPath, params, parseTransactionsPage);
  }

  async spentCredits(query: SpentCreditsQuery): Promise<SpentCredits> {
    const params = new URLSearchParams({
      timezone: query.timezone,
      period: query.period,
      start_date: query.startDate,
      end_date: query.endDate,
    });
    return this.get(spentCreditsPath, params, parseSpentCredits);
  }

  /** The account's balances from `GET /api/auth/users/me/` (the profile's other fields are dropped). */
  async usersMeBalances(): Promise<UsersMeBalances> {
    return this.get(usersMePath, new URLSearchParams(), parseUsersMe);
  }

  /** Counts every announcement; tells the first (a run warns once, not once per page). */
  private noteDeprecation(path: string, headers: Record<string, string | string[] | undefined>): void {
    const header = (name: string) => {
      const value = headers[name];
      return value === undefined ? undefined : String(value).slice(0, 200);
    };
    const deprecation = header("deprecation");
    const sunset = header("sunset");
    if (deprecation === undefined && sunset === undefined) return;
    this.deprecatedResponses += 1;
    if (this.deprecatedResponses === 1) this.options.onDeprecation?.({ path: `/${path}`, deprecation, sunset, link: header("link") });
  }

  private async get<T>(path: string, params: URLSearchParams, parse: (body: string, where: string) => T): Promise<T> {
    const where = `GET /${path}?${params.toString()}`;
    const { retries, signal } = this.options;
    const minTimeout = this.options.minRetryDelayMs ?? 500;
    const maxRetryAfterMs = this.options.maxRetryAfterMs ?? 60_000;

    const maxBytes = this.options.maxResponseBytes ?? 16 * 1024 * 1024;
    const secrets = [this.options.token];

    const attempt = async (): Promise<T> => {
      this.stats.requests += 1;
      let response;
      // got has no body size limit: count the (decompressed) bytes as they arrive and abort past
      // the bound, so an endless or huge body is an error instead of an exhausted heap.
      const tooLarge = new AbortController();
      try {
        const request = this.http.get(path, { searchParams: params, signal: signal ? AbortSignal.any([signal, tooLarge.signal]) : tooLarge.signal });
        request.on("downloadProgress", ({ transferred, total }) => {
          if (transferred > maxBytes || (total ?? 0) > maxBytes) tooLarge.abort();
        });
        response = await request;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (tooLarge.signal.aborted) throw tooLargeFailure(where, maxBytes);
        throw networkFailure(error, where, this.host, this.options.timeoutMs);
      }
      this.noteDeprecation(path, response.headers);
      if (response.rawBody.byteLength > maxBytes) throw tooLargeFailure(where, maxBytes); // whole before any progress event
      if (String(response.headers[modeHeader] ?? "").trim().toLowerCase() === "test") {
        throw new AttemptFailure(
          new ApiTestModeError(
            "the API answered in test mode (X-Generect-Mode: test): GENERECT_API_TOKEN is a test key, whose data is not the account's ledger. " +
              "Nothing was written; set the account's live key",
          ),
          false,
        );
      }
      // A body that quotes the token (a proxy echoing the request) is scrubbed before anything can
      // quote it in turn: an error's excerpt, a row's preview.
      const body = this.scrub(response.body);
      if (response.statusCode !== 200) {
        const header = response.headers["retry-after"];
        throw statusFailure(response.statusCode, body, where, parseRetryAfter(header, maxRetryAfterMs), secrets);
      }
      try {
        return parse(body, where);
      } catch (error) {
        // A body that fails validation may be a one-off (a proxy cutting the body short): retry it
        // within the budget, and report the validation error itself if it persists.
        if (error instanceof ApiResponseError) throw new AttemptFailure(error, true);
        throw error;
      }
    };

    try {
      const slot = this.options.requestSlot;
      return await pRetry(slot ? () => slot(attempt) : attempt, {
        retries,
        factor: 2,
        minTimeout,
        maxTimeout: this.options.maxRetryDelayMs ?? 30_000,
        randomize: true,
        signal,
        shouldRetry: ({ error }) => error instanceof AttemptFailure && error.retryable,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
          if (!(error instanceof AttemptFailure) || !error.retryable || retriesLeft === 0) return;
          this.stats.retries += 1;
          // Honour Retry-After: wait whatever it asks beyond p-retry's own backoff.
          const extra = Math.max(0, (error.retryAfterMs ?? 0) - retryDelay);
          this.options.onRetry?.({ attempt: attemptNumber, reason: error.final.message, delayMs: retryDelay + extra });
          await sleep(extra, signal);
        },
      });
    } catch (error) {
      if (error instanceof AttemptFailure) throw error.final;
      throw error;
    }
  }
}
