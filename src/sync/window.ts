import type pg from "pg";
import type { GenerectClient } from "../api/client.js";
import type { Transaction } from "../api/schema.js";
import { arrayLiteral } from "../db/array-literal.js";
import { inTransaction } from "../db/database.js";
import { hasOpenQuarantineSql } from "../db/sql/quarantine.js";
import { noJitSql } from "../db/sql/server.js";
import { addWindowCountsSql } from "../db/sql/sync-runs.js";
import { deletionCandidatesSql, type WritePath, windowHeldSql, writePath } from "../db/sql/transactions.js";
import { advanceWatermarkSql } from "../db/sql/watermarks.js";
import { GuardError } from "../errors.js";
import { type ChainTip, extendChain } from "../proofs/chain.js";
import { WrittenLeaves } from "../proofs/written-leaves.js";
import { addMicros, asMicros, formatInstant, fromDate, type Micros } from "../time.js";
import { FreshInserts } from "./fresh-inserts.js";
import { locateMoved } from "./moved.js";
import type { WalkOptions, WalkResult } from "./pages.js";
import { splitAround, splitWindow, type Window } from "./plan.js";
import type { PrefetchedWalk } from "./prefetch.js";
import { quarantineRows, resolveNoLongerListed, resolveQuarantined } from "./quarantine.js";
import { MovedBuckets, refreshRollups, WrittenSpan } from "./rollups.js";
import { StaleRows } from "./stale.js";
import { walkWindow } from "./walk.js";
import { WindowWrites } from "./window-writes.js";
import { type WriteCounts, writeRows } from "./write-rows.js";
import { WrittenRollups } from "./written-rollups.js";

export const transactionsStream = "transactions";

/** What committing a window works with (pipeline.ts builds it). */
export interface WindowCommitContext {
  pool: pg.Pool;
  client: GenerectClient;
  account: string;
  runId: string;
  /** One instant for the whole run, so a run's versions share their seen_at. */
  seenAt: Date;
  /** @default writePath */
  writePath?: WritePath;
  signal?: AbortSignal;
  /** Walks of one window before giving up on counts that keep moving. @default 3 */
  maxWalks?: number;
  /** The run's walks (pipeline.ts): options of a window's later walks, and the limiter the deletion probes share. */
  walks: {
    walkOptions(window: Window, walk: number): Omit<WalkOptions, "sink">;
    limit: NonNullable<WalkOptions["limit"]>;
  };
  /**
   * A fleet's request slots (api/request-slots.ts): told when the window takes its connection
   * (true) and gives it back (false), so its requests go ahead of those of accounts holding none.
   */
  holding?: (held: boolean) => void;
  /** Progress display: rows of one or more pages written. */
  onPage?: (rows: number, pages: number) => void;
  /**
   * What the run's committed windows established, so later windows need not read it again (the
   * account's lock keeps every other writer out). Each window reads what is unknown, and what it
   * learns is kept only once its COMMIT has returned: any failure forgets everything, so a window
   * retried after a connection lost around its COMMIT reads the database again.
   */
  known?: RunKnowledge;
}

export interface RunKnowledge {
  /** The account's last chain link. */
  chainTip?: ChainTip;
  /** The account's daily rollups in UTC are registered (ensureRollupZone). */
  utcZone?: boolean;
  /** Whether the account has unresolved quarantined rows (none: nothing for a window to resolve). */
  openQuarantine?: boolean;
}

export interface WindowStats extends WriteCounts {
  window: Window;
  walks: number;
  pages: number;
  rows: number;
  deleted: number;
  /** Rows kept in quarantined_rows: rows that cannot be transactions, and rows older than the version held (stale.ts). */
  rejected: number;
  /** Their reason codes, one per row. */
  rejectedCodes: string[];
  count: number;
  /**
   * The API's count disagreed with the rows walked, and two complete walks returned the same ids:
   * committed on the walks' evidence (`counted` by the API, `walked` distinct ids).
   */
  countMismatch?: { counted: number; walked: number };
}

export type WindowOutcome =
  | { kind: "split"; reason: "too large" | "unsettled"; count: number; parts?: Window[] }
  | { kind: "committed"; stats: WindowStats };

/**
 * One window, one database transaction: every page is written as it arrives, the window is
 * checked (every row inside it, distinct ids == count before and after), rows the API no longer
 * lists are marked deleted, the rollups of the buckets it changed are recomputed, and the watermark moves to the window's end before COMMIT.
 * Any failure rolls the whole window back, so the watermark never runs ahead of the data.
 */
export async function syncWindow(context: WindowCommitContext, window: Window, first: PrefetchedWalk): Promise<WindowOutcome> {
  try {
    return await walkAndCommit(context, window, first);
  } catch (error) {
    await first.cancel(error); // a walk never handed its writer would wait for it forever
    if (error instanceof HalveUnsettled) return { kind: "split", reason: "unsettled", count: error.count, parts: error.parts };
    throw error;
  }
}

/**
 * A walk of a large window that did not settle: rolled back and walked again as two halves. Each
 * walk of a window is as likely to meet a row moving as it has requests, so a window of 100 pages
 * in a ledger that moves now and then could spend its three walks without settling where its
 * halves settle; one of at most `pagesToHalve` pages is simply walked again.
 */
class HalveUnsettled extends Error {
  constructor(
    readonly count: number,
    /** Other parts than two halves: the window cut around an instant whose rows paging split. */
    readonly parts?: Window[],
  ) {
    super("window did not settle: halved");
  }
}

const pagesToHalve = 10;

/** Reads of a deletion candidate's instant before its absence counts as unproven. */
const maxProbes = 3;

function sameIds(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const id of a) if (!b.has(id)) return false;
  return true;
}

/**
 * The rows held live in the window that the walk did not return are deletions only when a
 * targeted walk of their instant (created_at to the microsecond, see instant.ts) confirms they are
 * gone. `confirmed` is undefined when a candidate is still listed, or its instant could not be
 * read whole, or lists a row without a readable id (which may be the candidate): the walk missed
 * a row, so the window did not settle. Other rows listed there that the walk did not return
 * arrived after it (or were missed): they go to `sink` like the walk's. A candidate gone from its
 * instant is looked for elsewhere (moved.ts): found, it is written where it now lives, an update;
 * not proven gone there (listed as a row that cannot be a transaction, or past the look-alikes
 * the search reads), it stays as held; only a candidate found nowhere is confirmed deleted.
 */
async function confirmDeletions(
  context: WindowCommitContext,
  db: pg.ClientBase,
  window: Window,
  walked: { ids: Set<string>; pageSize: number },
  sink: WalkOptions["sink"],
): Promise<{ confirmed: string[] | undefined; pages: number; rows: number }> {
  const candidates = (
    await db.query<{ id: string; created_at: string; amount: string; after_balance: string | null; balance_type: string }>(
      deletionCandidatesSql,
      [context.account, formatInstant(window.from), formatInstant(window.to), arrayLiteral([...walked.ids])],
    )
  ).rows;
  const instants = new Map<Micros, string[]>();
  for (const { id, created_at } of candidates) {
    const at = asMicros(Number(created_at));
    instants.set(at, [...(instants.get(at) ?? []), id]);
  }
  const probes = await Promise.all(
    [...instants.entries()].map(async ([at, ids]) => {
      // An instant read incomplete (a row arrived while it was read) is read again, not taken as proof.
      let pages = 0;
      let rows = 0;
      for (let attempt = 1; attempt <= maxProbes; attempt++) {
        const probe = await walkWindow(
          context.client,
          { from: at, to: addMicros(at, 1) },
          {
            pageSize: walked.pageSize,
            concurrency: 1,
            signal: context.signal,
            limit: context.walks.limit,
            sink,
          },
        );
        if (probe.kind !== "walked") throw new Error("unreachable: an instant is never split");
        pages += probe.pages;
        rows += probe.rows;
        // A row listed there without a readable id may be a candidate, still listed.
        if (probe.complete) return { listed: probe.unidentified > 0 || ids.some((id) => probe.ids.has(id)), pages, rows };
      }
      return { listed: true, pages, rows };
    }),
  );
  let pages = probes.reduce((n, p) => n + p.pages, 0);
  let rows = probes.reduce((n, p) => n + p.rows, 0);
  if (probes.some((p) => p.listed)) return { confirmed: undefined, pages, rows };
  // Gone from its created_at is not gone: a row that moved is an update where it now lives.
  const located = await Promise.all(
    candidates.map(async (c) => {
      const absent = { id: c.id, amount: c.amount, afterBalance: c.after_balance, balanceType: c.balance_type };
      return {
        id: c.id,
        ...(await locateMoved(context.client, absent, { pageSize: walked.pageSize, limit: context.walks.limit, signal: context.signal })),
      };
    }),
  );
  const moved = located.flatMap((l) => (l.found ? [l.found] : []));
  pages += located.reduce((n, l) => n + l.pages, 0);
  rows += moved.length;
  // Moved within this window after all: the walk missed it.
  if (moved.some((row) => row.createdAt >= window.from && row.createdAt < window.to)) return { confirmed: undefined, pages, rows };
  if (moved.length) await sink(moved, 0);
  // Not proven gone (see Located): the version held stays as it is.
  return { confirmed: located.filter((l) => !l.found && !l.unproven).map((l) => l.id), pages, rows };
}

async function walkAndCommit(context: WindowCommitContext, window: Window, first: PrefetchedWalk): Promise<WindowOutcome> {
  const known = context.known;
  const learned: RunKnowledge = { ...known };
  let outcome: WindowOutcome;
  try {
    outcome = await walkAndCommitOnce(context, window, first, learned);
  } catch (error) {
    if (known) for (const key of Object.keys(known) as (keyof RunKnowledge)[]) delete known[key];
    throw error;
  }
  if (known && outcome.kind === "committed") Object.assign(known, learned);
  return outcome;
}

async function walkAndCommitOnce(
  context: WindowCommitContext,
  window: Window,
  first: PrefetchedWalk,
  learned: RunKnowledge,
): Promise<WindowOutcome> {
  const maxWalks = context.maxWalks ?? 3;
  const canHalve = splitWindow(window) !== undefined;
  const remember = context.known !== undefined;

  const onConnection = async (db: pg.PoolClient, writes: WindowWrites): Promise<WindowOutcome> => {
    await db.query(noJitSql);
    const from = formatInstant(window.from);
    const to = formatInstant(window.to);
    const { held } = (await db.query<{ held: boolean }>(windowHeldSql, [context.account, from, to])).rows[0]!;
    const sql = context.writePath ?? writePath;
    // A backfill: nothing to compare against until this window's first walk wrote it.
    let fresh = held ? undefined : new FreshInserts(sql);
    // While the window only inserts, its chain leaves come from the rows it sends.
    const leaves = fresh && sql.proofs && sql.reserveVersionIds ? new WrittenLeaves(context.account, fromDate(context.seenAt)) : undefined;
    const totals = { inserted: 0, updated: 0, unchanged: 0, pages: 0, rows: 0 };
    const rollups = sql.rollups !== false;
    // Likewise its rollups inside it.
    const computedRollups = fresh && rollups ? new WrittenRollups(window) : undefined;
    const moved = new MovedBuckets();
    const written = new WrittenSpan(window);
    const stale = new StaleRows();
    const sink = (rows: Transaction[], pages: number) =>
      writes.run(async () => {
        if (rollups) {
          moved.recordWritten(rows, context.account, window);
          written.add(rows);
        }
        const counts = await writeRows(db, rows, {
          ...context,
          fresh,
          leaves,
          rollups: computedRollups,
          beforeUpsert: rollups ? (ids) => moved.record(db, ids, context.account, window) : undefined,
        });
        totals.inserted += counts.inserted;
        totals.updated += counts.updated;
        totals.unchanged += counts.unchanged;
        stale.written(rows, counts.stale);
        context.onPage?.(rows.length, pages);
      });

    // The last walk that saw its end without receiving a row twice.
    let lastComplete: { ids: Set<string>; unidentified: number } | undefined;
    for (let walk = 1; walk <= maxWalks; walk++) {
      let result: WalkResult;
      if (walk === 1) {
        first.open(sink);
        result = await first.result;
      } else {
        result = await walkWindow(context.client, window, { ...context.walks.walkOptions(window, walk), sink });
      }
      if (result.kind === "split") return { kind: "split", reason: "too large", count: result.count };
      await fresh?.end(db);
      fresh = undefined;
      totals.pages += result.pages;
      totals.rows += result.rows;
      // Complete and no row twice: every row listed during the walk was received (rows that move
      // under a walk show as a gap, a repeat, or a count moving between pages).
      const whole = result.complete && result.listed === result.ids.size + result.unidentified;
      const counted =
        result.countAtStart === result.countAtEnd && result.pageCountsAgree && result.ids.size + result.unidentified === result.countAtEnd;
      // A count that disagrees with a complete walk is not evidence of a missing row, nor of an
      // extra one: two complete walks that returned the same ids are, and they outweigh it.
      const agreed =
        whole &&
        !counted &&
        lastComplete !== undefined &&
        lastComplete.unidentified === result.unidentified &&
        sameIds(lastComplete.ids, result.ids);
      if (whole) lastComplete = result;
      let deletions: string[] | undefined;
      if (whole && (counted || agreed)) {
        // A listed row without a readable id may be any row held in the window: no deletion is
        // proven here until the API sends it readable again.
        // A window that held nothing when its transaction began holds only what its first walk
        // wrote, every row of which that walk returned: there are no candidates to look for (the
        // window's rows would be read for them). The previous release always looked (bench comparison).
        const nothingToFind = walk === 1 && !held && !sql.markDeletedInFreshWindows;
        const proof =
          result.unidentified > 0 || nothingToFind
            ? { confirmed: [], pages: 0, rows: 0 }
            : await confirmDeletions(context, db, window, result, sink);
        totals.pages += proof.pages;
        totals.rows += proof.rows;
        deletions = proof.confirmed;
      }
      if (!deletions) {
        // Rows of one instant split across pages: the server's order among them may differ per
        // request, which no number of walks fixes. The instant is walked on its own (instant.ts).
        const instant = result.straddling[0];
        if (canHalve && instant !== undefined) throw new HalveUnsettled(result.countAtEnd, splitAround(window, instant));
        if (walk === maxWalks) {
          throw new GuardError(
            "WINDOW_UNSETTLED",
            `window [${formatInstant(window.from)}, ${formatInstant(window.to)}) did not settle after ${maxWalks} walks: ` +
              `the API counted ${result.countAtStart} then ${result.countAtEnd} rows, ${result.ids.size} distinct ids (and ${result.unidentified} rows without a readable id) were received` +
              `${whole ? "" : ` (${result.complete ? `${result.listed - result.ids.size - result.unidentified} received twice` : "the walk did not reach its end"})`}` +
              `${whole && (counted || agreed) ? ", and a row the walk did not return (or one without a readable id) is still listed at its created_at" : ""}; nothing was committed for this window`,
          );
        }
        if (canHalve && result.countAtEnd > pagesToHalve * result.pageSize) throw new HalveUnsettled(result.countAtEnd);
        continue;
      }

      if (deletions.length > 0) {
        leaves?.lose();
        computedRollups?.lose();
      }
      const deleted =
        deletions.length === 0
          ? 0
          : (
              await db.query<{ deleted: number }>(sql.markDeleted, [
                context.account,
                from,
                to,
                arrayLiteral(deletions),
                context.seenAt,
                context.runId,
              ])
            ).rows[0]!.deleted;
      if (rollups) {
        await refreshRollups(db, context.account, held ? window : written.span, moved, {
          utcZoneKnown: learned.utcZone === true,
          computed: computedRollups?.computed,
        });
        if (remember) learned.utcZone = true;
      }
      if (remember && learned.openQuarantine === undefined) {
        learned.openQuarantine = (await db.query<{ open: boolean }>(hasOpenQuarantineSql, [context.account])).rows[0]!.open;
      }
      const quarantined = [...result.rejected, ...stale.entries];
      await quarantineRows(db, context, window, quarantined);
      // No open entry before this window: none for it to resolve (its own rejected rows never are).
      if (learned.openQuarantine !== false) {
        await resolveQuarantined(db, context, arrayLiteral([...result.ids]), quarantined);
        if (result.unidentified === 0) await resolveNoLongerListed(db, context, window, result.ids, quarantined);
      }
      if (quarantined.length > 0) learned.openQuarantine = true;
      // Tamper evidence: the versions this window wrote join the account's hash chain in the same transaction.
      if (sql.proofs) {
        const tip = await extendChain(
          db,
          { account: context.account, runId: context.runId, windowFrom: from, windowTo: to },
          learned.chainTip,
          leaves?.versions,
        );
        if (remember) learned.chainTip = tip;
      }
      await db.query(advanceWatermarkSql, [context.account, transactionsStream, to, context.runId]);
      const stats: WindowStats = {
        window,
        walks: walk,
        count: result.countAtEnd,
        deleted,
        rejected: quarantined.length,
        rejectedCodes: quarantined.map((r) => r.code),
        ...totals,
      };
      if (agreed) stats.countMismatch = { counted: result.countAtEnd, walked: result.ids.size + result.unidentified };
      await db.query(addWindowCountsSql, [
        context.runId,
        stats.pages,
        stats.rows,
        stats.inserted,
        stats.updated,
        stats.unchanged,
        stats.deleted,
        to,
        stats.rejected,
        agreed ? 1 : 0,
      ]);
      return { kind: "committed", stats };
    }
    throw new Error("unreachable");
  };
  return inTransaction(context.pool, async (db) => {
    context.holding?.(true);
    const writes = new WindowWrites();
    try {
      return await onConnection(db, writes);
    } finally {
      await writes.close();
      context.holding?.(false);
    }
  });
}
