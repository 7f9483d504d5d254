// A replica (or a cache) behind on edits answers some pages: each row as it was before its last
// update, its older updated_at included. Written, that answer would record the newer version
// superseded by the older one, and the next answer from the primary would bring the newer back: a
// history of versions that never were. The mirror keeps the version it holds and quarantines the
// row until the API sends it as recent again (src/sync/stale.ts).
import { describe, expect, test } from "@jest/globals";
import type { Transaction } from "../../src/api/schema.js";
import { Database, inTransaction } from "../../src/db/database.js";
import { verify } from "../../src/job/verify.js";
import { writeRows } from "../../src/sync/write-rows.js";
import { asMicros } from "../../src/time.js";
import { createMigratedDatabase, query } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, LogCapture, perTest, seededSimulator, syncOnce, syncRuns, testConfig } from "../helpers/sync.js";
import { expectVersionsConsistent } from "./support.js";

interface Entry {
  transaction_id: string;
  reason_code: string;
  reason: string;
  raw: string;
  page_offset: number | null;
  position: number | null;
  times_received: number;
  resolved_at: Date | null;
  resolution: string | null;
}

const entries = (url: string) =>
  query<Entry>(
    url,
    `SELECT transaction_id::text, reason_code, reason, raw, page_offset, position, times_received, resolved_at, resolution
     FROM quarantined_rows ORDER BY transaction_id`,
  );

const versionCount = async (url: string) => (await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM transaction_versions"))[0]!.n;

/** Each row's version before its latest, as transaction_history holds it: what the replica serves. */
const supersededRaw = (url: string, ids: string[]) =>
  query<{ id: string; raw: string }>(
    url,
    `SELECT DISTINCT ON (id) id::text, raw FROM transaction_history WHERE id = ANY($1::uuid[]) ORDER BY id, version_id DESC`,
    [ids],
  );

describe("a replica behind on edits", () => {
  const made = perTest();

  test("rows sent older than the version held are neither written nor lost: quarantined until the API sends them as recent", async () => {
    const db = made.database(await createMigratedDatabase("stale replica"));
    const sim = made.simulator(await seededSimulator(61, 240, 0.5));
    await syncOnce(db.url, sim);
    const edited = sim.ledger
      .all()
      .filter((_, i) => i % 24 === 5)
      .map((row) => row.id)
      .sort();
    await new Promise((resolve) => setTimeout(resolve, 5)); // updated_at in milliseconds: later than any row's
    for (const [i, id] of edited.entries()) sim.ledger.update(id, { description: `corrected charge ${i}` });
    const caughtUp = await syncOnce(db.url, sim);
    expect(caughtUp.updated).toBe(edited.length);
    await expectDatabaseEqualsLedger(db.url, sim);
    const versions = await versionCount(db.url);
    const olderTexts = await supersededRaw(db.url, edited);

    // Every page from the replica, twice: the mirror stays as it was, the rows wait in quarantine.
    sim.faults.staleRate = 1;
    for (const received of [1, 2]) {
      const summary = await syncOnce(db.url, sim);
      expect({ updated: summary.updated, inserted: summary.inserted, deleted: summary.deleted, rejected: summary.rejected }).toEqual({
        updated: 0,
        inserted: 0,
        deleted: 0,
        rejected: edited.length,
      });
      await expectDatabaseEqualsLedger(db.url, sim);
      expect(await versionCount(db.url)).toBe(versions);
      await expectVersionsConsistent(db.url);
      const open = await entries(db.url);
      expect(open.map((e) => e.transaction_id)).toEqual(edited);
      for (const entry of open) {
        expect(entry).toMatchObject({
          reason_code: "STALE_VERSION",
          page_offset: null,
          position: null,
          times_received: received,
          resolved_at: null,
        });
        expect(entry.raw).toBe(olderTexts.find((v) => v.id === entry.transaction_id)!.raw);
        expect(entry.reason).toMatch(
          /^updated_at \d{4}-\d\d-\d\dT[\d:.]+Z is older than the version held \(updated_at \d{4}-\d\d-\d\dT[\d:.]+Z\): a stale answer, not written over the newer version$/,
        );
      }
    }
    const runs = await syncRuns(db.url);
    expect(runs.at(-1)).toMatchObject({ status: "succeeded", rows_rejected: edited.length, rows_updated: 0 });
    expect(runs.at(-1)!.rows_unchanged).toBe(runs.at(-1)!.rows_seen - edited.length);

    // verify names every open entry while they last.
    const config = testConfig(sim);
    const report = await verify({ config, databaseUrl: db.url, log: new LogCapture().logger, clientOptions: { minRetryDelayMs: 5 } });
    const quarantine = report.proofs.find((p) => p.name === "quarantine")!;
    expect(quarantine.holds).toBe(false);
    expect(quarantine.findings).toHaveLength(edited.length);
    for (const finding of quarantine.findings) expect(finding).toContain("STALE_VERSION");

    // The primary again, one of the rows deleted upstream meanwhile: nothing to write but the
    // deletion, every entry resolved.
    const [gone, ...kept] = edited;
    sim.ledger.remove(gone!);
    sim.resetFaults();
    const healed = await syncOnce(db.url, sim);
    expect({ updated: healed.updated, deleted: healed.deleted, rejected: healed.rejected }).toEqual({
      updated: 0,
      deleted: 1,
      rejected: 0,
    });
    expect(await versionCount(db.url)).toBe(versions + 1);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    const healedRun = (await syncRuns(db.url)).at(-1)!.id;
    const resolved = new Map((await entries(db.url)).map((e) => [e.transaction_id, e.resolution]));
    expect(resolved.get(gone!)).toBe(`no longer listed where it was received, in run ${healedRun}`);
    for (const id of kept) expect(resolved.get(id)).toBe(`a valid version was received by run ${healedRun}`);
  });

  test("an edit the replica has not seen yet, then a newer edit: the newest version is written once, in order", async () => {
    const db = made.database(await createMigratedDatabase("stale replica order"));
    const sim = made.simulator(await seededSimulator(62, 120, 0.5));
    await syncOnce(db.url, sim);
    const [id] = [sim.ledger.all()[7]!.id];
    await new Promise((resolve) => setTimeout(resolve, 5));
    sim.ledger.update(id!, { description: "first edit" });
    // The replica serves the version before the first edit: the one held, so nothing changes.
    sim.faults.staleRate = 1;
    expect((await syncOnce(db.url, sim)).updated).toBe(0);
    expect(await entries(db.url)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    sim.ledger.update(id!, { description: "second edit" });
    // Now it serves the first edit, newer than what is held: an update, as any.
    expect((await syncOnce(db.url, sim)).updated).toBe(1);
    sim.resetFaults();
    expect((await syncOnce(db.url, sim)).updated).toBe(1);
    await expectDatabaseEqualsLedger(db.url, sim);
    await expectVersionsConsistent(db.url);
    const chain = await query<{ description: string }>(
      db.url,
      "SELECT description FROM transaction_versions WHERE id = $1 ORDER BY version_id",
      [id],
    );
    expect(chain.map((v) => v.description).slice(1)).toEqual(["first edit", "second edit"]);
    expect(await entries(db.url)).toEqual([]);
  });

  test("rows without updated_at cannot be judged older: a different payload is written as an update", async () => {
    const db = made.database(await createMigratedDatabase("stale replica no updated_at"));
    const sim = made.simulator(await seededSimulator(63, 120, 0.5));
    const id = sim.ledger.all()[11]!.id;
    sim.ledger.setOdd(id, "missing-updated-at");
    await syncOnce(db.url, sim);
    await new Promise((resolve) => setTimeout(resolve, 5));
    sim.ledger.update(id, { description: "edited" });
    await syncOnce(db.url, sim);
    sim.faults.staleRate = 1;
    expect((await syncOnce(db.url, sim)).updated).toBe(1);
    expect(await entries(db.url)).toEqual([]);
    await expectVersionsConsistent(db.url);
  });

  test("the same id twice in one batch: the copy updated last is written, wherever it stands", async () => {
    const db = made.database(await createMigratedDatabase("stale replica batch"));
    const database = new Database(db.url);
    try {
      const row = (updatedAt: number, description: string): Transaction => ({
        id: "0b6f7a4e-6f1c-4d7e-9a51-3c1d2e4f5a60",
        createdAt: asMicros(Date.UTC(2026, 0, 5) * 1000),
        updatedAt: asMicros(updatedAt),
        status: "success",
        balanceType: "platform",
        amount: "-1",
        description,
        afterBalance: "99",
        raw: JSON.stringify({ description, updatedAt }),
      });
      const newer = row(Date.UTC(2026, 0, 6) * 1000, "newer");
      const older = row(Date.UTC(2026, 0, 5, 12) * 1000, "older");
      const context = { account: "acct", runId: "1", seenAt: new Date() };
      await query(db.url, "INSERT INTO sync_runs (id, account, command, status, started_at) VALUES (1, 'acct', 'run', 'running', now())");
      for (const batch of [
        [newer, older],
        [older, newer],
      ]) {
        await inTransaction(database.pool, (client) => writeRows(client, batch, context));
        const [held] = await query<{ description: string }>(db.url, "SELECT description FROM transactions");
        expect(held!.description).toBe("newer");
      }
      expect(await versionCount(db.url)).toBe(1);
    } finally {
      await database.close();
    }
  });
});
