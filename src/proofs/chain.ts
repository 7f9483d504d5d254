// Tamper evidence: a SHA-256 hash chain over every version the sync writes, extended by each
// committed window in the window's own transaction (see README, "What verify proves").
//
// Encoding of one version (its leaf): SHA-256 of the UTF-8 JSON array
//   [account, id, version_id, valid_from, created_at, updated_at, status, balance_type, amount,
//    description, after_balance, raw]
// with version_id as decimal text, times as "YYYY-MM-DDTHH:MM:SS.ffffff" UTC (valid_from is when the
// version became current, the end of its validity is the next version's valid_from, itself
// chained), numbers as Postgres numeric text, null as null, raw as stored. A link is
//   head = hex(SHA-256(UTF-8(previous head hex) || leaf_1 || ... || leaf_n))
// over its versions in version_id order; the first link's previous head is 64 zeros. What no leaf
// holds (a version's deletion mark, a history row's valid_to and change) is checked against the
// chained versions instead (versionMarksSql).
import { createHash, hash } from "node:crypto";
import type pg from "pg";
import {
  chainCurrentVersionsSql,
  chainLinkCountSql,
  chainSupersededVersionsSql,
  insertLinkSql,
  lastLinkSql,
  linksSql,
  otherVersionsSql,
  unlinkedVersionsSql,
  versionMarksSql,
} from "../db/sql/proofs.js";

type Queryable = Pick<pg.ClientBase, "query">;

export const genesisDigest = "0".repeat(64);
const leafBytes = 32;
const maxVersionId = "9223372036854775807";

/** A version as the chain reads it; times as chainTime takes them. */
export interface ChainVersion {
  account: string;
  id: string;
  version_id: string;
  valid_from: string;
  created_at: string;
  updated_at: string | null;
  status: string;
  balance_type: string;
  amount: string;
  description: string | null;
  after_balance: string | null;
  raw: string;
}

/** Version ids as decimal text: the shorter is the smaller (no leading zeros), equal lengths compare as text. */
export function versionOrder(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The account's versions in (after, upTo], in version_id order: both tables read in index order, then merged. */
async function versionsBetween(db: Queryable, account: string, after: string, upTo: string): Promise<ChainVersion[]> {
  const parameters = [account, after, upTo];
  const current = (await db.query<ChainVersion>(chainCurrentVersionsSql, parameters)).rows;
  const superseded = (await db.query<ChainVersion>(chainSupersededVersionsSql, parameters)).rows;
  if (superseded.length === 0) return current;
  if (current.length === 0) return superseded;
  const merged: ChainVersion[] = [];
  let i = 0;
  let j = 0;
  while (i < current.length && j < superseded.length)
    merged.push(versionOrder(current[i]!.version_id, superseded[j]!.version_id) < 0 ? current[i++]! : superseded[j++]!);
  while (i < current.length) merged.push(current[i++]!);
  while (j < superseded.length) merged.push(superseded[j++]!);
  return merged;
}

/**
 * "YYYY-MM-DDTHH:MM:SS.ffffff" from the same instant in JSON's form as Postgres writes it (quoted,
 * the fraction's trailing zeros dropped, no fraction at all for a whole second); a time already in
 * the encoding's form is kept.
 */
export function chainTime(text: string): string {
  const bare = text.charCodeAt(0) === 34 ? text.slice(1, -1) : text; // "
  if (bare.length === 26) return bare;
  return bare.length === 19 ? `${bare}.000000` : bare.padEnd(26, "0");
}

/** The leaf of one version: SHA-256 of its canonical encoding (above). */
export function leafOf(v: ChainVersion): Buffer {
  return Buffer.from(leafDigest(v), "latin1");
}

/**
 * The leaf of one version as a 32-character latin1 string, a character a byte. One-shot hash: the
 * same digest as createHash().update().digest(), at under half its CPU (one leaf per version
 * written, the chain's main cost in a backfill); as a string, not a Buffer of its own, which was as
 * costly again (leavesOf joins them and makes one Buffer).
 */
export function leafDigest(v: ChainVersion): string {
  const encoding = JSON.stringify([
    v.account,
    v.id,
    v.version_id,
    chainTime(v.valid_from),
    chainTime(v.created_at),
    v.updated_at === null ? null : chainTime(v.updated_at),
    v.status,
    v.balance_type,
    v.amount,
    v.description,
    v.after_balance,
    v.raw,
  ]);
  return hash("sha256", encoding, "binary"); // "binary" is latin1: a character a byte
}

/** The leaves of versions, in their order, as one Buffer: Buffer.concat(versions.map(leafOf)). */
export function leavesOf(versions: readonly ChainVersion[]): Buffer {
  return Buffer.from(versions.map(leafDigest).join(""), "latin1");
}

export function linkDigest(previous: string, leaves: Buffer): string {
  return createHash("sha256").update(previous, "utf8").update(leaves).digest("hex");
}

/** The account's chain head, or the genesis digest before the first link. */
export async function chainHead(db: Queryable, account: string): Promise<{ head: string; links: number }> {
  const { rows } = await db.query<{ seq: string; head_digest: string }>(lastLinkSql, [account]);
  const count = await db.query<{ n: number }>(chainLinkCountSql, [account]);
  return { head: rows[0]?.head_digest ?? genesisDigest, links: count.rows[0]!.n };
}

/**
 * Extends the account's chain by the versions written since its last link (the window's own, and
 * on the first link every version written before the chain existed). Runs inside the window's
 * transaction: the link commits with the versions or not at all. The account's lock keeps links
 * and versions of one account in one order.
 */
export async function extendChain(
  db: Queryable,
  link: { account: string; runId: string; windowFrom: string | null; windowTo: string | null },
  /**
   * The account's last link as its previous window committed it, kept by the run (the lock keeps
   * every other writer out): saves reading it back per window. Undefined: read from proof_chain.
   */
  tip?: ChainTip,
  /**
   * The window's versions when it only inserted rows, with their leaves computed from the rows sent
   * (written-leaves.ts). Taken only when the account holds no other version after the last link:
   * otherwise (versions written before the chain existed, or by hand) they are read back with the rest.
   */
  inserted?: LinkVersions,
): Promise<ChainTip | undefined> {
  const last = tip ?? (await db.query<{ last_version_id: string; head_digest: string }>(lastLinkSql, [link.account])).rows[0];
  const previous = last?.head_digest ?? genesisDigest;
  const after = last?.last_version_id ?? "0";
  let versions: LinkVersions;
  const others = async ({ first, last }: LinkVersions) =>
    (await db.query<{ others: boolean }>(otherVersionsSql, [link.account, after, first, last])).rows[0]!.others;
  if (inserted && !(await others(inserted))) {
    versions = inserted;
  } else {
    const read = await versionsBetween(db, link.account, after, maxVersionId);
    if (read.length === 0) return last && { last_version_id: last.last_version_id, head_digest: previous };
    versions = { first: read[0]!.version_id, last: read.at(-1)!.version_id, count: read.length, leaves: leavesOf(read) };
  }
  const head = linkDigest(previous, versions.leaves);
  await db.query(insertLinkSql, [
    link.account,
    link.runId,
    link.windowFrom,
    link.windowTo,
    versions.first,
    versions.last,
    versions.count,
    versions.leaves,
    previous,
    head,
  ]);
  return { last_version_id: versions.last, head_digest: head };
}

/** A link's versions: the first and last version id, how many, and their leaves in version order. */
export interface LinkVersions {
  first: string;
  last: string;
  count: number;
  leaves: Buffer;
}

/** An account's last link: the last version it chained and its head. */
export interface ChainTip {
  last_version_id: string;
  head_digest: string;
}

/** versionMarksSql's findings, each with what is wrong with the version in words. */
async function unchainedDisagreements(db: Queryable, account: string): Promise<{ id: string; version_id: string; what: string }[]> {
  const rows = (
    await db.query<{ id: string; version_id: string; marked: boolean; deletion: boolean; validity_differs: boolean }>(versionMarksSql, [
      account,
    ])
  ).rows;
  return rows.map((r) => ({
    id: r.id,
    version_id: r.version_id,
    what:
      r.marked !== r.deletion
        ? r.marked
          ? "is marked deleted"
          : "is not marked deleted"
        : r.validity_differs
          ? "ends (valid_to) where the next version does not begin"
          : "says it was superseded by a deletion (change) that the next version is not, or the reverse",
  }));
}

export interface ChainBreak {
  /** The link that no longer matches. */
  seq: string;
  runId: string;
  /** What changed: a version's content, a version gone or added, or the stored chain itself. */
  kind: "version changed" | "version missing" | "version added" | "link rewritten";
  versionId?: string;
  transactionId?: string;
  detail: string;
}

export interface ChainCheck {
  links: number;
  versions: number;
  /** The head recomputed from the versions as they are now. */
  head: string;
  /** The head stored in the last link. */
  storedHead: string;
  /** The first break, in chain order; none when the history is as it was chained. */
  firstBreak: ChainBreak | undefined;
  breaks: number;
  /** Versions written after the last link (none unless written outside the sync). */
  unlinked: number;
  /** --digest: the link whose recomputed head equals it, if any. */
  digestMatch?: { seq: string; linkedVersions: number } | null;
}

/**
 * Recomputes the chain from the versions as they are now: each version's leaf against the one
 * stored at its link (naming the first version that changed), and every head from the genesis.
 * With `digest`, finds the link whose recomputed head equals it: a digest kept outside the database
 * proves the history it covered is unchanged, even if someone rewrote the stored chain too.
 */
export async function checkChain(db: Queryable, account: string, digest?: string): Promise<ChainCheck> {
  const links = (
    await db.query<{
      seq: string;
      run_id: string;
      first_version_id: string;
      last_version_id: string;
      versions: number;
      leaves: Buffer;
      previous_digest: string;
      head_digest: string;
    }>(linksSql, [account])
  ).rows;
  let head = genesisDigest;
  let storedPrevious = genesisDigest;
  let after = "0";
  let versions = 0;
  let breaks = 0;
  let firstBreak: ChainBreak | undefined;
  let digestMatch: ChainCheck["digestMatch"] = digest === undefined ? undefined : null;
  const broke = (b: ChainBreak): void => {
    breaks += 1;
    firstBreak ??= b;
  };
  for (const link of links) {
    const rows = await versionsBetween(db, account, after, link.last_version_id);
    const computed = leavesOf(rows);
    const leafAt = (leaves: Buffer, i: number) => leaves.subarray(i * leafBytes, (i + 1) * leafBytes);
    const differs = (i: number) => !leafAt(computed, i).equals(leafAt(link.leaves, i));
    const common = Math.min(rows.length, link.versions);
    const changed = Array.from({ length: common }, (_, i) => i).filter(differs);
    if (rows.length !== link.versions) {
      // A version removed or added by hand shifts the leaves after it: the first that differs names it.
      const at = rows[changed[0] ?? Math.max(0, common - 1)];
      const kind = rows.length < link.versions ? "version missing" : "version added";
      broke({
        seq: link.seq,
        runId: link.run_id,
        kind,
        versionId: at?.version_id,
        transactionId: at?.id,
        detail:
          `link ${link.seq} (run ${link.run_id}) chained ${link.versions} versions, the database now holds ${rows.length} in its range ` +
          `(${kind}, first difference at version ${at?.version_id ?? "?"} of transaction ${at?.id ?? "?"})`,
      });
    } else if (changed.length > 0) {
      const row = rows[changed[0]!]!;
      broke({
        seq: link.seq,
        runId: link.run_id,
        kind: "version changed",
        versionId: row.version_id,
        transactionId: row.id,
        detail:
          `version ${row.version_id} of transaction ${row.id} no longer produces the leaf chained by run ${link.run_id} ` +
          `(link ${link.seq}${changed.length > 1 ? `, ${changed.length} versions of this link differ` : ""})`,
      });
    }
    const linkBroken = rows.length !== link.versions || changed.length > 0;
    head = linkDigest(head, computed);
    // The stored chain itself: each link continues the one before and its head is its leaves' digest.
    if (!linkBroken && (link.previous_digest !== storedPrevious || link.head_digest !== linkDigest(link.previous_digest, link.leaves))) {
      broke({
        seq: link.seq,
        runId: link.run_id,
        kind: "link rewritten",
        detail: `link ${link.seq} (run ${link.run_id}) does not continue the chain: its stored digests were changed`,
      });
    }
    storedPrevious = link.head_digest;
    if (digest !== undefined && head === digest.toLowerCase()) digestMatch = { seq: link.seq, linkedVersions: versions + rows.length };
    versions += rows.length;
    after = link.last_version_id;
  }
  for (const v of await unchainedDisagreements(db, account)) {
    const link = links.find((l) => BigInt(l.first_version_id) <= BigInt(v.version_id) && BigInt(v.version_id) <= BigInt(l.last_version_id));
    broke({
      seq: link?.seq ?? "-",
      runId: link?.run_id ?? "-",
      kind: "version changed",
      versionId: v.version_id,
      transactionId: v.id,
      detail: `version ${v.version_id} of transaction ${v.id} ${v.what}, which its chained versions contradict`,
    });
  }
  const unlinked = Number((await db.query<{ n: string }>(unlinkedVersionsSql, [account, after])).rows[0]!.n);
  return {
    links: links.length,
    versions,
    head,
    storedHead: links.at(-1)?.head_digest ?? genesisDigest,
    firstBreak,
    breaks,
    unlinked,
    digestMatch,
  };
}
