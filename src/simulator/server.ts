// The HTTP face of the simulator: plain node:http, routes and status codes as the real Generect API
// answers them (see /work/shared/generect-api/). Faults let tests make it misbehave on purpose.

import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { objectJson, pageJson, rowForTamper, rowJson, spentCreditsJson } from "./json.js";
import { Ledger } from "./ledger.js";
import { pageLinks } from "./links.js";
import { seedTransactions } from "./seed.js";
import { validateSpentParams } from "./spent-credits.js";
import { BadRequestError } from "./types.js";

export interface InterceptResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface SimulatorFaults {
  /** Serve every row as if no filter was given (what the real API does with unreadable filters). */
  ignoreFilters: boolean;
  /**
   * Tamper with each transactions row as sent. The row has the wire's keys in the wire's order;
   * amount and after_balance are JsonNumber objects (String(v) gives the literal). Return a new object:
   * a JsonNumber value is written verbatim, anything else through JSON.stringify (so a string
   * amount goes out as a JSON string), and an undefined value drops the key.
   */
  transformRow?: (row: Record<string, unknown>) => Record<string, unknown>;
  /** Runs before each transactions page is computed, so tests can insert or change rows mid-walk. */
  beforePage?: (ctx: { offset: number; limit: number; query: URLSearchParams }) => void | Promise<void>;
  /** Answer the next N authenticated API requests with 429 {"detail": "Request was throttled."}. */
  throttleNext?: number;
  /** Retry-After header (seconds) on those 429s; unset = no header, as the docs promise nothing. */
  retryAfterSeconds?: number;
  /**
   * Runs first for every request. Return a response to send it instead of the normal answer (e.g. a
   * 502 HTML page), "destroy" to cut the connection without answering, or undefined to carry on.
   */
  intercept?: (ctx: {
    method: string;
    path: string;
    query: URLSearchParams;
    headers: IncomingHttpHeaders;
  }) => InterceptResponse | "destroy" | undefined | Promise<InterceptResponse | "destroy" | undefined>;
}

export interface SimulatorOptions {
  token: string;
  host?: string; // default 127.0.0.1
  port?: number; // 0 = random
  ledger?: Ledger;
  seed?: number;
  rows?: number; // seed rows if no ledger; default 2000
  from?: Date;
  to?: Date; // seed span, default 3 years up to now
  maxLimit?: number; // 100
  limitOverMax?: "clamp" | "reject";
  missingSlash?: "redirect" | "404";
}

export interface SimulatorHandle {
  url: string; // e.g. http://127.0.0.1:41234, no trailing slash
  ledger: Ledger;
  faults: SimulatorFaults;
  stats: { requests: number; byPath: Record<string, number> };
  close(): Promise<void>;
}

export const TRANSACTIONS_PATH = "/api/auth/transactions/";
export const SPENT_CREDITS_PATH = "/api/auth/transactions/spent_credits/";
const DEFAULT_LIMIT = 100;

const detail = (text: string) => JSON.stringify({ detail: text });
const badRequest = (text: string) => JSON.stringify({ status: "error", status_code: 400, detail: text });

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/** Python-style int(): surrounding spaces and a + sign are fine, anything else is not a number. */
function parseIntParam(value: string | null): number | undefined {
  if (value === null || !/^\s*\+?\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

export async function startSimulator(opts: SimulatorOptions): Promise<SimulatorHandle> {
  const to = opts.to ?? new Date();
  const from = opts.from ?? new Date(new Date(to).setUTCFullYear(to.getUTCFullYear() - 3));
  const ledger =
    opts.ledger ?? new Ledger(seedTransactions({ seed: opts.seed, rows: opts.rows ?? 2000, from, to }), { seed: opts.seed });
  const maxLimit = opts.maxLimit ?? 100;
  const faults: SimulatorFaults = { ignoreFilters: false };
  const stats: SimulatorHandle["stats"] = { requests: 0, byPath: {} };

  async function transactions(res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
    // DRF semantics: a limit that is not a positive integer means the default; above max is capped.
    let limit = parseIntParam(query.get("limit")) || DEFAULT_LIMIT;
    if (limit > maxLimit) {
      if (opts.limitOverMax === "reject") {
        return send(res, 400, badRequest(`limit: Ensure this value is less than or equal to ${maxLimit}.`));
      }
      limit = maxLimit;
    }
    const offset = parseIntParam(query.get("offset")) ?? 0;
    await faults.beforePage?.({ offset, limit, query });
    const result = ledger.query(query, { ignoreFilters: faults.ignoreFilters });
    const rows = result.count === 0 || offset > result.count ? [] : result.slice(offset, limit);
    const transform = faults.transformRow;
    const rowsJson = transform ? rows.map((r) => objectJson(transform(rowForTamper(r)))) : rows.map(rowJson);
    const links = pageLinks(pathname, query, { offset, limit, count: result.count });
    send(res, 200, pageJson({ count: result.count, ...links, limit, max_limit: maxLimit, offset }, rowsJson));
  }

  function spentCredits(res: ServerResponse, query: URLSearchParams): void {
    const params = validateSpentParams({
      timezone: query.get("timezone"),
      period: query.get("period"),
      start_date: query.get("start_date"),
      end_date: query.get("end_date"),
    });
    send(res, 200, spentCreditsJson(ledger.spentCredits(params)));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator");
    const method = req.method ?? "GET";
    stats.requests++;
    stats.byPath[url.pathname] = (stats.byPath[url.pathname] ?? 0) + 1;

    const intercepted = await faults.intercept?.({ method, path: url.pathname, query: url.searchParams, headers: req.headers });
    if (intercepted === "destroy") return void req.socket.destroy();
    if (intercepted) {
      return send(res, intercepted.status, intercepted.body ?? "", intercepted.headers);
    }

    // Routing comes before authentication in Django, so 404 and the slash redirect need no token.
    const known = [TRANSACTIONS_PATH, SPENT_CREDITS_PATH];
    if (!known.includes(url.pathname)) {
      if (known.includes(`${url.pathname}/`) && opts.missingSlash !== "404") {
        return send(res, 301, "", { Location: `${url.pathname}/${url.search}` });
      }
      return send(res, 404, detail("Not found."));
    }

    const auth = req.headers.authorization;
    if (!auth?.startsWith("Token ")) {
      return send(res, 401, detail("Authentication credentials were not provided."), { "WWW-Authenticate": "Token" });
    }
    if (auth.slice("Token ".length).trim() !== opts.token) {
      return send(res, 403, detail("You do not have permission to perform this action."));
    }
    if (method !== "GET" && method !== "HEAD") {
      return send(res, 405, detail(`Method "${method}" not allowed.`), { Allow: "GET, HEAD" });
    }
    if ((faults.throttleNext ?? 0) > 0) {
      faults.throttleNext!--;
      const headers: Record<string, string> =
        faults.retryAfterSeconds === undefined ? {} : { "Retry-After": String(faults.retryAfterSeconds) };
      return send(res, 429, detail("Request was throttled."), headers);
    }

    if (url.pathname === TRANSACTIONS_PATH) return transactions(res, url.pathname, url.searchParams);
    return spentCredits(res, url.searchParams);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BadRequestError) return send(res, 400, badRequest(err.message));
      send(res, 500, detail(`simulator error: ${err instanceof Error ? err.message : String(err)}`));
    });
  });
  // Clients pool connections; keep sockets open longer than a typical client's idle timeout.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    ledger,
    faults,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // idle keep-alive sockets would otherwise hold close() open
      }),
  };
}
