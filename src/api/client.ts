import { setTimeout as sleep } from "node:timers/promises";
import got, { type Got, RequestError } from "got";
import pRetry, { AbortError } from "p-retry";
import { ApiRequestError, ApiResponseError, ApiTestModeError, type ErrorCode, type SyncError } from "../errors.js";
import { scrubbedExcerpt, scrubSecrets, secretScrubber } from "../secrets.js";
import { formatApiTimestamp, type Micros } from "../time.js";
import { type AttemptOutcome, isRetryable, isTlsCertificateCode, parseRetryAfter } from "./retry-policy.js";
import {
  parseSpentCredits,
  parseTransactionsPage,
  parseUsersMe,
  type SpentCredits,
  type TransactionsPage,
  type UsersMeBalances,
} from "./schema.js";

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
   * Runs each attempt's HTTP exchange: a fleet shares one limiter among its accounts' clients, so
   * SYNC_CONCURRENCY bounds the requests in flight of the whole process. A slot is held by one
   * exchange, never by a retry's backoff nor by reading the answer (the next request goes out while
   * this page is checked). @default every attempt at once
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

/**
 * An attempt's failure as p-retry reads it: what the policy calls final wrapped in p-retry's
 * AbortError (p-retry stops and rejects with the error inside), everything else bare (retried).
 */
function failure(outcome: AttemptOutcome, error: SyncError): Error {
  return isRetryable(outcome) ? error : new AbortError(error);
}

function statusFailure(status: number, body: string, where: string, retryAfterMs: number | undefined, secrets: string[]): Error {
  const detail = detailOf(body, secrets);
  const outcome: AttemptOutcome = { kind: "status", status, retryAfter: retryAfterMs !== undefined };
  const error = (code: ErrorCode, message: string) => failure(outcome, new ApiRequestError(code, message, status));
  switch (status) {
    case 401:
      return error("API_AUTH", `API token rejected (401 ${detail}): check GENERECT_API_TOKEN`);
    case 403:
      return error("API_FORBIDDEN", `API token rejected (403 ${detail}): the key has no access to the transactions of this account`);
    case 400:
      return error("API_BAD_REQUEST", `API rejected the request ${where} (400 ${detail})`);
    case 404:
      return error("API_NOT_FOUND", `API answered 404 for ${where}: check GENERECT_API_URL`);
    case 429:
      return error("API_THROTTLED", `API kept throttling ${where} (429 ${detail})`);
    default:
      return error(isRetryable(outcome) ? "API_UNAVAILABLE" : "API_HTTP_ERROR", `API answered ${status} for ${where}: ${detail}`);
  }
}

function networkFailure(error: unknown, where: string, host: string, timeoutMs: number): Error {
  const code = (error as { code?: string }).code;
  const outcome: AttemptOutcome = { kind: "transport", code };
  if (error instanceof RequestError && (error.name === "TimeoutError" || code === "ETIMEDOUT")) {
    return failure(outcome, new ApiRequestError("API_TIMEOUT", `API request ${where} timed out after ${timeoutMs} ms`));
  }
  if (isTlsCertificateCode(code)) {
    return failure(
      outcome,
      new ApiRequestError("API_TLS", `TLS certificate of the API at ${host} rejected (${code}) for ${where}: check GENERECT_API_URL`),
    );
  }
  const reason = code ?? (error as Error).message;
  return failure(outcome, new ApiRequestError("API_UNREACHABLE", `could not reach the API at ${host} for ${where}: ${reason}`));
}

function tooLargeFailure(where: string, maxBytes: number): Error {
  return failure(
    { kind: "too-large" },
    new ApiRequestError(
      "API_RESPONSE_TOO_LARGE",
      `API response to ${where} exceeded ${maxBytes} bytes (GENERECT_MAX_RESPONSE_BYTES): not read further`,
    ),
  );
}

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
      // Retries live in one layer, p-retry's (GenerectClient.get), not got's: an attempt also fails
      // on what got never sees (a 200 whose body fails validation), a fleet's requestSlot must be
      // held by one attempt and never by a backoff, and GENERECT_RETRIES is one budget for them all.
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

    /** The last failed attempt's Retry-After (attempts of one call run one after another). */
    let retryAfterMs: number | undefined;
    /** The HTTP exchange alone: what a fleet's request slot is held for (reading the answer is not a request in flight). */
    const exchange = async () => {
      this.stats.requests += 1;
      // got has no body size limit: count the (decompressed) bytes as they arrive and abort past
      // the bound, so an endless or huge body is an error instead of an exhausted heap.
      const tooLarge = new AbortController();
      try {
        const request = this.http.get(path, {
          searchParams: params,
          signal: signal ? AbortSignal.any([signal, tooLarge.signal]) : tooLarge.signal,
        });
        request.on("downloadProgress", ({ transferred, total }) => {
          if (transferred > maxBytes || (total ?? 0) > maxBytes) tooLarge.abort();
        });
        return await request;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (tooLarge.signal.aborted) throw tooLargeFailure(where, maxBytes);
        throw networkFailure(error, where, this.host, this.options.timeoutMs);
      }
    };
    const slot = this.options.requestSlot;
    const attempt = async (): Promise<T> => {
      retryAfterMs = undefined;
      const response = await (slot ? slot(exchange) : exchange());
      this.noteDeprecation(path, response.headers);
      if (response.rawBody.byteLength > maxBytes) throw tooLargeFailure(where, maxBytes); // whole before any progress event
      if (
        String(response.headers[modeHeader] ?? "")
          .trim()
          .toLowerCase() === "test"
      ) {
        throw failure(
          { kind: "test-mode" },
          new ApiTestModeError(
            "the API answered in test mode (X-Generect-Mode: test): GENERECT_API_TOKEN is a test key, whose data is not the account's ledger. " +
              "Nothing was written; set the account's live key",
          ),
        );
      }
      // A body that quotes the token (a proxy echoing the request) is scrubbed before anything can
      // quote it in turn: an error's excerpt, a row's preview.
      const body = this.scrub(response.body);
      if (response.statusCode !== 200) {
        retryAfterMs = parseRetryAfter(response.headers["retry-after"], maxRetryAfterMs);
        throw statusFailure(response.statusCode, body, where, retryAfterMs, secrets);
      }
      try {
        return parse(body, where);
      } catch (error) {
        // A body that fails validation may be a one-off (a proxy cutting the body short): retry it
        // within the budget, and report the validation error itself if it persists.
        if (error instanceof ApiResponseError) throw failure({ kind: "invalid-body" }, error);
        throw error;
      }
    };

    // A final failure arrives as AbortError, which p-retry unwraps and rejects with at once (no
    // callback runs); a retryable one is a bare ApiRequestError or ApiResponseError. Anything else
    // (a bug, the request slot failing) is not retried either.
    const ours = (error: Error) => error instanceof ApiRequestError || error instanceof ApiResponseError;
    return pRetry(attempt, {
      retries,
      factor: 2,
      minTimeout,
      maxTimeout: this.options.maxRetryDelayMs ?? 30_000,
      randomize: true,
      signal,
      shouldRetry: ({ error }) => ours(error),
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
        if (!ours(error) || retriesLeft === 0) return;
        this.stats.retries += 1;
        // Honour Retry-After: wait whatever it asks beyond p-retry's own backoff.
        const extra = Math.max(0, (retryAfterMs ?? 0) - retryDelay);
        this.options.onRetry?.({ attempt: attemptNumber, reason: error.message, delayMs: retryDelay + extra });
        // Aborted, timers' promise rejects with its own AbortError: reject with the signal's reason
        // instead, as p-retry's own backoff does, so a stopped run reads the same wherever it stopped.
        if (extra === 0) return;
        try {
          await sleep(extra, undefined, { signal });
        } catch (cause) {
          throw signal?.aborted ? signal.reason : cause;
        }
      },
    });
  }
}
