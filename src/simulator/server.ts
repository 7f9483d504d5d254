// The HTTP face of the simulator: plain node:http, routes and status codes as the real Generect API
// answers them (see /work/shared/generect-api/). Faults let tests make it misbehave on purpose.

import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BAD_ROW_KINDS,
  breakRow,
  CHURN_KINDS,
  FaultDice,
  type FaultKind,
  type FaultSettings,
  HTML_ERROR_PAGE,
  requestKey,
  takeNext,
  unstableSlice,
  validateFaultSettings,
} from "./faults.js";
import { parseFilters } from "./filters.js";
import { JsonNumber, objectJson, pageJson, rowForTamper, rowJson, spentCreditsJson } from "./json.js";
import { Ledger } from "./ledger.js";
import { pageLinks } from "./links.js";
import { mulberry32 } from "./prng.js";
import { seedTransactions } from "./seed.js";
import { validateSpentParams } from "./spent-credits.js";
import { formatMicros, naiveToMicros } from "./time.js";
import { BadRequestError } from "./types.js";

export interface InterceptResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/**
 * What the simulator does wrong, switched at run time by assigning fields of `sim.faults`. Besides
 * the hooks below, the rate-based and counted faults of FaultSettings (latency, 429 bursts, 5xx,
 * hangs, resets mid-body, truncated or non-JSON bodies, schema-violating rows, ignored filters,
 * drifting counts, rows changing mid-walk, arrivals) are seeded: see faults.ts. They apply to
 * authenticated API requests only: a request without a valid token is always refused (401/403).
 */
export interface SimulatorFaults extends FaultSettings {
  /**
   * The simulator's clock relative to the real one, in ms: rows it creates (arrivals, churn
   * inserts, `ledger.add()` without created_at) get created_at = real now + clockOffsetMs, updates
   * get that updated_at. Reads and writes `ledger.clockOffsetMs`. @default 0
   */
  clockOffsetMs?: number;
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
  /**
   * Announce the endpoints' retirement: every authenticated API answer (errors included) carries
   * these headers, e.g. `Deprecation: @1767225600` (RFC 9745), `Sunset: Thu, 01 Jul 2027 00:00:00 GMT`
   * (RFC 8594) and a `Link` to the notice. Counted as `deprecation` in stats.injected.
   */
  deprecationHeaders?: { deprecation?: string; sunset?: string; link?: string };
  /** Answer the next N authenticated API requests with 429 {"detail": "Request was throttled."}. */
  throttleNext?: number;
  /** Retry-After header (seconds) on those 429s; unset = no header, as the docs promise nothing. */
  retryAfterSeconds?: number;
  /**
   * Runs first for every request. Return a response to send it instead of the normal answer (e.g. a
   * 502 HTML page), "destroy" to cut the connection without answering, or undefined to carry on.
   */
  /**
   * Tamper with the users/me answer: gets the profile with balances as JsonNumber and returns the
   * object to send (e.g. a balance that disagrees with the ledger).
   */
  transformUsersMe?: (body: Record<string, unknown>) => Record<string, unknown>;
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
  /** Faults switched on from the start (validated); `sim.faults` can change them later. */
  faults?: Partial<SimulatorFaults>;
  /**
   * More accounts on the same server, as Generect serves every account on one host: the key picks
   * the ledger (`token` keeps `ledger`). Faults and latency are the server's, shared by all.
   */
  accounts?: Record<string, Ledger>;
}

export interface SimulatorHandle {
  url: string; // e.g. http://127.0.0.1:41234, no trailing slash
  ledger: Ledger;
  /** Every account's ledger by its key, `token`'s included. */
  ledgers: ReadonlyMap<string, Ledger>;
  faults: SimulatorFaults;
  /** `injected` counts the faults the simulator injected, by kind. */
  stats: { requests: number; byPath: Record<string, number>; injected: Partial<Record<FaultKind, number>> };
  /** Switches every fault off (clock offset 0, counters and seeded draws reset; stats are kept). */
  resetFaults(): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export const TRANSACTIONS_PATH = "/api/auth/transactions/";
export const SPENT_CREDITS_PATH = "/api/auth/transactions/spent_credits/";
export const USERS_ME_PATH = "/api/auth/users/me/";
const DEFAULT_LIMIT = 100;

/** The balance types users/me reports (NOTES.md), one balance_<type> field each. */
export const USERS_ME_BALANCE_TYPES = [
  "platform",
  "leads_by_icp",
  "companies_by_icp",
  "lead_by_link",
  "company_by_link",
  "email_finder",
  "email_verifier",
] as const;

const detail = (text: string) => JSON.stringify({ detail: text });
const badRequest = (text: string) => JSON.stringify({ status: "error", status_code: 400, detail: text });

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return; // the client left while we were stalling
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/**
 * A 200 of `bytes` bytes (Infinity: it never ends) that is a valid page if it ever ends: the
 * envelope with its results padded by JSON whitespace. Written as fast as the client reads, until
 * it leaves.
 */
async function streamBody(res: ServerResponse, bytes: number): Promise<void> {
  const prefix = '{"count":0,"next":null,"previous":null,"limit":100,"max_limit":100,"offset":0,"results":[';
  const suffix = "]}";
  res.writeHead(200, { "Content-Type": "application/json", ...(Number.isFinite(bytes) ? { "Content-Length": String(bytes) } : {}) });
  let closed = false;
  res.once("close", () => (closed = true));
  res.write(prefix);
  const chunk = Buffer.alloc(64 * 1024, " ");
  for (let left = bytes - prefix.length - suffix.length; left > 0 && !closed && !res.destroyed; ) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= piece.length;
    const flowing = res.write(piece);
    await new Promise<void>((resolve) => {
      if (flowing) return void setImmediate(resolve); // never starve the event loop
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done).on("close", done);
    });
  }
  if (!closed && !res.destroyed) res.end(suffix);
}

/** Python-style int(): surrounding spaces and a + sign are fine, anything else is not a number. */
function parseIntParam(value: string | null): number | undefined {
  if (value === null || !/^\s*\+?\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

export async function startSimulator(opts: SimulatorOptions): Promise<SimulatorHandle> {
  const to = opts.to ?? new Date();
  const from = opts.from ?? new Date(new Date(to).setUTCFullYear(to.getUTCFullYear() - 3));
  const ledger = opts.ledger ?? new Ledger(seedTransactions({ seed: opts.seed, rows: opts.rows ?? 2000, from, to }), { seed: opts.seed });
  const ledgers = new Map<string, Ledger>([...Object.entries(opts.accounts ?? {}), [opts.token, ledger]]);
  const maxLimit = opts.maxLimit ?? 100;
  const faults: SimulatorFaults = { ignoreFilters: false };
  Object.defineProperty(faults, "clockOffsetMs", {
    enumerable: true,
    get: () => ledger.clockOffsetMs,
    set: (value: number | undefined) => {
      validateFaultSettings({ clockOffsetMs: value });
      for (const each of ledgers.values()) each.clockOffsetMs = value ?? 0;
    },
  });
  if (opts.faults) {
    validateFaultSettings(opts.faults);
    Object.assign(faults, opts.faults);
  }
  const stats: SimulatorHandle["stats"] = { requests: 0, byPath: {}, injected: {} };
  const dice = new FaultDice();
  const inject = (kind: FaultKind): void => {
    stats.injected[kind] = (stats.injected[kind] ?? 0) + 1;
  };
  const chance = (draw: number, rate: number | undefined) => rate !== undefined && rate > 0 && draw < rate;

  /** Waits `ms`; false when the client went away meanwhile (nothing left to answer). */
  function stall(req: IncomingMessage, ms: number): Promise<boolean> {
    if (req.socket.destroyed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        req.socket.off("close", gone);
        resolve(true);
      }, ms);
      const gone = () => {
        clearTimeout(timer);
        resolve(false);
      };
      req.socket.once("close", gone);
    });
  }

  /** Rows moving inside the requested created_at window while it is walked (churnRate). */
  function churn(ledger: Ledger, query: URLSearchParams, draw: (kind: string) => number): void {
    const window = parseFilters(query).createdAt;
    if (window.min === undefined || window.max === undefined) return;
    const kinds = faults.churnKinds?.length ? faults.churnKinds : CHURN_KINDS;
    const kind = kinds[Math.floor(draw("churnKind") * kinds.length)]!;
    if (kind === "insert") {
      const lo = naiveToMicros(window.min) + (window.minInclusive ? 0 : 1);
      const hi = Math.min(
        naiveToMicros(window.max) + (window.maxInclusive ? 1 : 0),
        Math.floor((Date.now() + ledger.clockOffsetMs) * 1000),
      );
      if (hi <= lo) return;
      ledger.add({ created_at: formatMicros(lo + Math.floor(draw("churnPick") * (hi - lo))), amount: "-0.5" });
      inject("churnInsert");
      return;
    }
    const inWindow = ledger.query(query);
    if (inWindow.count === 0) return;
    const victim = inWindow.slice(Math.floor(draw("churnPick") * inWindow.count), 1)[0]!;
    if (kind === "delete") {
      ledger.remove(victim.id);
      inject("churnDelete");
      return;
    }
    ledger.update(victim.id, victim.status === "pending" ? { status: "success" } : {});
    inject("churnUpdate");
  }

  async function transactions(ledger: Ledger, pathname: string, query: URLSearchParams, draw: (kind: string) => number): Promise<Reply> {
    // DRF semantics: a limit that is not a positive integer means the default; above max is capped.
    let limit = parseIntParam(query.get("limit")) || DEFAULT_LIMIT;
    if (limit > maxLimit) {
      if (opts.limitOverMax === "reject") {
        return { status: 400, body: badRequest(`limit: Ensure this value is less than or equal to ${maxLimit}.`) };
      }
      limit = maxLimit;
    }
    const offset = parseIntParam(query.get("offset")) ?? 0;
    await faults.beforePage?.({ offset, limit, query });
    if (chance(draw("churn"), faults.churnRate)) churn(ledger, query, draw);
    if (chance(draw("arrival"), faults.arrivalRate)) {
      ledger.add({ amount: "-0.01" });
      inject("arrival");
    }
    const unfiltered = faults.ignoreFilters || chance(draw("ignoreFilters"), faults.ignoreFiltersRate);
    if (unfiltered && !faults.ignoreFilters) inject("ignoreFilters");
    const dropped = faults.dropFilters?.filter((name) => query.has(name)) ?? [];
    if (dropped.length) inject("dropFilters");
    const readable = dropped.length ? new URLSearchParams([...query].filter(([name]) => !dropped.includes(name))) : query;
    const result = ledger.query(readable, { ignoreFilters: unfiltered });
    // A silently clamped page: fewer rows than the `limit` the envelope answers.
    const served = faults.clampLimit ? Math.min(limit, faults.clampLimit) : limit;
    if (served < limit) inject("clampLimit");
    let rows = result.count === 0 || offset > result.count ? [] : result.slice(offset, served);
    if (faults.unstableOrder && rows.length > 0) {
      rows = unstableSlice(result.slice(0, result.count), offset, served, mulberry32(Math.floor(draw("unstableOrder") * 2 ** 32)));
      inject("unstableOrder");
    }
    if (rows.length > 0 && (takeNext(faults, "staleNext") || chance(draw("stale"), faults.staleRate))) {
      rows = rows.map((row) => ledger.behindOnEdits(row));
      inject("stale");
    }
    const transform = faults.transformRow;
    const rowsJson = transform
      ? rows.map((r) => objectJson(transform(rowForTamper(r))))
      : ledger.oddRows > 0
        ? rows.map((r) => ledger.served(r))
        : rows.map(rowJson);
    if (rows.length > 0 && (takeNext(faults, "badRowNext") || chance(draw("badRow"), faults.badRowRate))) {
      const index = Math.floor(draw("badRowIndex") * rows.length);
      const kinds = faults.badRowKinds?.length ? faults.badRowKinds : BAD_ROW_KINDS;
      const kind = kinds[Math.floor(draw("badRowKind") * kinds.length)]!;
      const row = rows[index]!;
      rowsJson[index] = objectJson(breakRow(transform ? transform(rowForTamper(row)) : rowForTamper(row), kind));
      inject("badRow");
    }
    let count = result.count;
    if (chance(draw("countDrift"), faults.countDriftRate)) {
      const by = 1 + Math.floor(draw("countDriftBy") * 3);
      count = draw("countDriftSign") < 0.5 && count >= by ? count - by : count + by;
      inject("countDrift");
    }
    if (faults.countOffset) {
      count = Math.max(0, count + faults.countOffset);
      inject("countOffset");
    }
    const links = pageLinks(pathname, query, { offset, limit, count: result.count });
    return { status: 200, body: pageJson({ count, ...links, limit, max_limit: maxLimit, offset }, rowsJson) };
  }

  function spentCredits(ledger: Ledger, query: URLSearchParams): Reply {
    const params = validateSpentParams({
      timezone: query.get("timezone"),
      period: query.get("period"),
      start_date: query.get("start_date"),
      end_date: query.get("end_date"),
    });
    return { status: 200, body: spentCreditsJson(ledger.spentCredits(params)) };
  }

  /**
   * The profile as the real API serves it: personal fields the sync must not keep, and the balances
   * the ledger reaches (its latest after_balance per type, credits held by pending rows).
   */
  function usersMe(ledger: Ledger): Reply {
    const { balances, blockedPlatform } = ledger.balances(USERS_ME_BALANCE_TYPES);
    const body: Record<string, unknown> = {
      id: 4711,
      email: "ada.lovelace@example.com",
      full_name: "Ada Lovelace",
      first_name: "Ada",
      last_name: "Lovelace",
      phone: "+44 20 7946 0958",
      logo: "https://cdn.example.com/logos/ada.png",
      company_name: "Analytical Engines Ltd",
      date_joined: "2024-03-02T09:14:07.118224",
      is_active: true,
    };
    for (const type of USERS_ME_BALANCE_TYPES) body[`balance_${type}`] = new JsonNumber(balances[type]!);
    for (const [type, value] of Object.entries(balances)) if (!(`balance_${type}` in body)) body[`balance_${type}`] = new JsonNumber(value);
    body.blocked_balance_platform = new JsonNumber(blockedPlatform);
    return { status: 200, body: objectJson(faults.transformUsersMe ? faults.transformUsersMe(body) : body) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
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
    const known = [TRANSACTIONS_PATH, SPENT_CREDITS_PATH, USERS_ME_PATH];
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
    const key = auth.slice("Token ".length).trim();
    const ledger = ledgers.get(key);
    if (!ledger) {
      return send(res, 403, detail("You do not have permission to perform this action."));
    }
    // Keys that start with test_ answer in test mode, and say so on every answer (NOTES.md).
    if (key.startsWith("test_")) res.setHeader("X-Generect-Mode", "test");
    if (method !== "GET" && method !== "HEAD") {
      return send(res, 405, detail(`Method "${method}" not allowed.`), { Allow: "GET, HEAD" });
    }

    const retiring = faults.deprecationHeaders;
    if (retiring) {
      // setHeader merges into whatever writeHead sends later, so every kind of answer carries them.
      if (retiring.deprecation !== undefined) res.setHeader("Deprecation", retiring.deprecation);
      if (retiring.sunset !== undefined) res.setHeader("Sunset", retiring.sunset);
      if (retiring.link !== undefined) res.setHeader("Link", retiring.link);
      inject("deprecation");
    }
    // Faults, in a fixed order; each draw is a function of the seed and the request (faults.ts).
    const { draw } = dice.next(faults.seed ?? 1, requestKey(url.pathname, url.searchParams));
    // The answer leaves `delay` after the request arrived, the simulator's own work included, as a
    // remote server's latency includes its work: a page that took 1 ms to build under 50 ms of
    // latency is answered at 50 ms, not 51 (the bench's latency bound assumes exactly that).
    const delay = (faults.latencyMs ?? 0) + (faults.jitterMs ? Math.floor(draw("jitter") * faults.jitterMs) : 0);
    if (delay > 0) inject("latency");
    const due = async () => {
      // Node's timers may fire up to a millisecond early; the answer never leaves before its time.
      for (let left = arrived + delay - performance.now(); left > 0; left = arrived + delay - performance.now()) {
        if (!(await stall(req, Math.ceil(left)))) return false;
      }
      return !req.socket.destroyed;
    };
    const answer = async (status: number, body: string, headers?: Record<string, string>) => {
      if (await due()) send(res, status, body, headers);
    };
    if (takeNext(faults, "hangNext") || chance(draw("hang"), faults.hangRate)) {
      inject("hang");
      if (!(await stall(req, faults.hangMs ?? 120_000))) return;
    }
    const throttledByRate = (faults.throttleNext ?? 0) === 0 && chance(draw("throttle"), faults.throttleRate);
    if (throttledByRate) faults.throttleNext = (faults.throttleNext ?? 0) + Math.max(1, faults.throttleBurst ?? 1);
    if ((faults.throttleNext ?? 0) > 0) {
      faults.throttleNext!--;
      inject("throttle");
      const headers: Record<string, string> =
        faults.retryAfterSeconds === undefined ? {} : { "Retry-After": String(faults.retryAfterSeconds) };
      return answer(429, detail("Request was throttled."), headers);
    }
    if (takeNext(faults, "failNext") || chance(draw("fail"), faults.failRate)) {
      const statuses = faults.failStatuses?.length ? faults.failStatuses : [500, 502, 503];
      const status = statuses[Math.floor(draw("failStatus") * statuses.length)]!;
      inject("fail");
      if (status === 502) return answer(502, HTML_ERROR_PAGE, { "Content-Type": "text/html" });
      return answer(status, detail(status === 503 ? "Service temporarily unavailable, try again later." : "A server error occurred."));
    }
    if (takeNext(faults, "invalidJsonNext") || chance(draw("invalidJson"), faults.invalidJsonRate)) {
      inject("invalidJson");
      return answer(200, HTML_ERROR_PAGE, { "Content-Type": "text/html" });
    }
    if (takeNext(faults, "endlessBodyNext")) {
      inject("endlessBody");
      if (await due()) await streamBody(res, Infinity);
      return;
    }
    if (takeNext(faults, "oversizeBodyNext")) {
      inject("oversizeBody");
      if (await due()) await streamBody(res, faults.oversizeBodyBytes ?? 64 * 1024 * 1024);
      return;
    }

    let reply: Reply;
    try {
      reply =
        url.pathname === TRANSACTIONS_PATH
          ? await transactions(ledger, url.pathname, url.searchParams, draw)
          : url.pathname === USERS_ME_PATH
            ? usersMe(ledger)
            : spentCredits(ledger, url.searchParams);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      reply = { status: 400, body: badRequest(error.message) };
    }
    if (reply.status === 200 && (takeNext(faults, "truncateNext") || chance(draw("truncate"), faults.truncateRate))) {
      inject("truncate");
      const cut = Math.max(1, Math.floor(reply.body.length * (0.1 + 0.8 * draw("truncateAt"))));
      return answer(200, reply.body.slice(0, Math.min(cut, reply.body.length - 1)), reply.headers);
    }
    if (reply.status === 200 && (takeNext(faults, "resetNext") || chance(draw("reset"), faults.resetRate))) {
      inject("reset");
      if (!(await due())) return;
      // Headers promise the whole body; part of it is sent, then the connection is cut.
      const body = Buffer.from(reply.body);
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(body.length), ...reply.headers });
      const part = Math.max(1, Math.floor(body.length * (0.1 + 0.8 * draw("resetAt"))));
      res.write(body.subarray(0, Math.min(part, body.length - 1)), () => req.socket.destroy());
      return;
    }
    return answer(reply.status, reply.body, reply.headers);
  }

  function resetFaults(): void {
    for (const key of Object.keys(faults) as (keyof SimulatorFaults)[]) {
      if (key !== "clockOffsetMs") delete faults[key];
    }
    faults.ignoreFilters = false;
    faults.clockOffsetMs = 0;
    dice.reset();
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
    ledgers,
    faults,
    stats,
    resetFaults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // idle keep-alive sockets would otherwise hold close() open
      }),
  };
}
