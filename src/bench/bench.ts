// One benchmark run: the phases in order, side by side on the same ledger, then ratios, targets and
// the checks that every phase did what it claims (row counts).
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { TRANSACTIONS_PATH } from "../simulator/index.js";
import { asMillis } from "../time.js";
import type { BenchArgs } from "./args.js";
import { cpuBound, storageComparison } from "./bounds.js";
import { runCliSync } from "./cli-run.js";
import { type BenchServer, checkpoint, createScratchDatabase, ownBackendLister, queryOne } from "./database.js";
import { legacyWritePath } from "./legacy-sql.js";
import { type MeasureContext, measure } from "./measure.js";
import {
  apiCeiling,
  benchAccount,
  benchConfig,
  createPreviousDatabase,
  type DiskBytes,
  dbCeiling,
  diskBytes,
  diskBytesText,
  heldCounts,
  naive,
  type PhaseContext,
  prepareDbCeiling,
  rowsInLastLookback,
  syncOnce,
} from "./phases.js";
import { profiled, summarizeProfile } from "./profile.js";
import { type BenchReport, type PhaseReport, phaseReport, ratioText, round, type SweepPoint, type TargetCheck } from "./report.js";
import type { BenchSimulator } from "./sim-host.js";
import { lineChart } from "./svg.js";
import { codeVersion } from "./version.js";

const rate = (p: PhaseReport) =>
  `${p.rows.toLocaleString("en-US")} rows in ${(p.wallMs / 1000).toFixed(2)} s, ${p.rowsPerSec.toLocaleString("en-US")} rows/s, peak RSS ${p.peakRssMB.toFixed(0)} MB`;

export async function runBench(
  args: BenchArgs,
  sim: BenchSimulator,
  server: BenchServer,
  say: (line: string) => void,
): Promise<BenchReport> {
  const loadAtStart = os.loadavg()[0]!;
  const env: Record<string, string> = {};
  if (args.window !== undefined) env.SYNC_WINDOW = args.window;
  if (args.windowRows !== undefined) env.SYNC_WINDOW_ROWS = String(args.windowRows);
  const context: PhaseContext = { server, sim, say, env };
  const backends = await ownBackendLister(server);
  try {
    return await phasesOf(args, sim, server, say, context, loadAtStart, {
      requests: () => sim.requests(),
      simulatorPid: () => sim.pid,
      postmasterPid: () => server.postmasterPid,
      ownBackends: () => backends.list(),
    });
  } finally {
    await backends.close();
  }
}

async function phasesOf(
  args: BenchArgs,
  sim: BenchSimulator,
  server: BenchServer,
  say: (line: string) => void,
  context: PhaseContext,
  loadAtStart: number,
  measured: MeasureContext,
): Promise<BenchReport> {
  const phases: BenchReport["phases"] = {};
  const checks: BenchReport["verification"]["checks"] = [];
  const n = sim.size;
  const C = args.concurrency;

  // 1. API ceiling
  await checkpoint(server);
  say(`API ceiling: fetching every page of the backfill, concurrency ${C}, writing nothing`);
  const api = await measure(measured, () => apiCeiling(context, C));
  const pageSize = api.result.pageSize;
  phases.apiCeiling = phaseReport("API ceiling (fetch all pages, no writes)", api.result.rows, api.measurement, {
    pages: api.result.pages,
    windows: api.result.windows,
    pageSize,
  });
  say(`  ${rate(phases.apiCeiling)}, ${api.measurement.apiRequests} requests`);
  checks.push({ what: "API ceiling rows", expected: n, actual: api.result.rows });

  // 2. DB ceiling
  say("DB ceiling: writing the ledger as COPY text (not measured)");
  const prepared = await prepareDbCeiling(context);
  try {
    await checkpoint(server);
    say(`DB ceiling: COPY of ${n} rows (${(prepared.bytes / 1048576).toFixed(0)} MB of text) into a table shaped like transactions`);
    const db = await measure(measured, () => dbCeiling(prepared));
    phases.dbCeiling = phaseReport("DB ceiling (COPY FROM STDIN)", db.result.rows, db.measurement, {
      method: db.result.method,
      bytes: db.result.bytes,
    });
    say(`  ${rate(phases.dbCeiling)}`);
    checks.push({ what: "rows copied into bench_copy", expected: n, actual: db.result.rows });
  } finally {
    await prepared.cleanup();
  }

  // 3a. the backfill as users run it, in a process of its own (the CLI's peak RSS); first, while
  // the ledger is still the seeded one
  const cliDb = await createScratchDatabase(server, "cli");
  try {
    await checkpoint(server);
    say(`sync: full backfill as \`generect-sync run\` in a child process (its own peak RSS), concurrency ${C}`);
    const cli = await measure(measured, () =>
      runCliSync({
        ...context.env,
        GENERECT_API_TOKEN: sim.token,
        GENERECT_API_URL: sim.url,
        DATABASE_URL: cliDb.url,
        SYNC_ACCOUNT: benchAccount,
        SYNC_CONCURRENCY: String(C),
      }),
    );
    const rows = (await heldCounts(cliDb.url)).rows;
    // The child's own memory and CPU; what this process spent (the inline simulator) stays out of it.
    const measurement = {
      ...cli.measurement,
      startRssBytes: 0,
      peakRssBytes: cli.result.peakRssBytes,
      cpu: { ...cli.measurement.cpu, node: cli.result.cpuSeconds },
    };
    phases.syncCli = phaseReport("sync: full backfill, `generect-sync run` alone", rows, measurement, {
      process: "child",
      snapshotPass: true,
    });
    say(`  ${rate(phases.syncCli)}`);
    checks.push({ what: "CLI backfill rows held", expected: n, actual: rows });
  } finally {
    await cliDb.drop().catch(() => {});
  }

  // 3b. the previous release's write path (every row also written as its first version, keyed on
  // id alone) into a database of its shape: the same sync otherwise, just before this release's
  if (args.previousWritePath) {
    say(`sync: full backfill with the previous release's write path and schema, concurrency ${C}`);
    const previous = await writePathBackfill(
      server,
      context,
      measured,
      "previous",
      C,
      args.snapshots,
      "sync: full backfill, previous write path",
    );
    phases.syncBackfillPrevious = previous;
    say(`  ${rate(previous)}, ${diskBytesText({ total: previous.details.bytesOnDisk, byTable: previous.details.bytesOnDiskByTable })}`);
    checks.push({ what: "previous write path rows held", expected: n, actual: previous.details.held });
  }

  // 3. generect-sync: backfill, then incremental runs
  const syncDb = await createScratchDatabase(server, "sync");
  let sweep: BenchReport["sweep"];
  try {
    await checkpoint(server);
    say(`sync: full backfill into an empty schema, concurrency ${C}`);
    const backfill = await measure(measured, () =>
      profiled(args.cpuProfile, () => syncOnce(context, syncDb.url, { concurrency: C, snapshots: args.snapshots })),
    );
    if (args.cpuProfile) await reportProfile(args.cpuProfile, say);
    const b = backfill.result;
    await checkpoint(server);
    const disk = await diskBytes(syncDb.url);
    phases.syncBackfill = phaseReport("sync: full backfill", b.rowsSeen, backfill.measurement, {
      windows: b.windows,
      pages: b.pages,
      inserted: b.inserted,
      updated: b.updated,
      unchanged: b.unchanged,
      bytesOnDisk: disk.total,
      bytesOnDiskByTable: disk.byTable,
    });
    say(`  ${rate(phases.syncBackfill)}, ${diskBytesText(disk)}`);
    checks.push({ what: "backfill rows held", expected: n, actual: (await heldCounts(syncDb.url)).rows });
    checks.push({ what: "backfill inserted", expected: n, actual: b.inserted });

    await checkpoint(server);
    const lookbackMs = benchConfig(context, syncDb.url, C).lookbackMs;
    say(`sync: incremental run, nothing new (lookback ${lookbackMs / 3_600_000}h)`);
    const none = await measure(measured, () => syncOnce(context, syncDb.url, { concurrency: C, snapshots: args.snapshots }));
    const s0 = none.result;
    const lookbackRows = await rowsInLastLookback(syncDb.url, lookbackMs);
    phases.syncIncrementalNothingNew = phaseReport("sync: incremental, nothing new", s0.rowsSeen, none.measurement, {
      lookbackHours: lookbackMs / 3_600_000,
      rowsInLookback: lookbackRows,
      windows: s0.windows,
      pages: s0.pages,
      inserted: s0.inserted,
      updated: s0.updated,
      unchanged: s0.unchanged,
    });
    say(`  ${rate(phases.syncIncrementalNothingNew)}, ${none.measurement.apiRequests} requests`);
    checks.push({ what: "nothing-new inserted+updated", expected: 0, actual: s0.inserted + s0.updated });

    if (args.chart) sweep = await concurrencySweep(args, context, measured, phases.apiCeiling, phases.syncBackfill, pageSize);

    const onePercent = Math.max(1, Math.round(n / 100));
    say(`simulator: adding ${onePercent} rows (last 23 h) and changing the ${onePercent} newest (not measured)`);
    const mutation = await sim.mutate({ added: onePercent, changed: onePercent });
    await checkpoint(server);
    say(
      `sync: incremental run, ${mutation.added} new and ${mutation.changed} changed rows (lookback ${mutation.lookbackMs / 3_600_000}h, to reach the changed rows)`,
    );
    const changes = await measure(measured, () =>
      syncOnce(context, syncDb.url, { concurrency: C, snapshots: args.snapshots, config: { lookbackMs: asMillis(mutation.lookbackMs) } }),
    );
    const s1 = changes.result;
    phases.syncIncrementalChanges = phaseReport("sync: incremental, 1% new + 1% changed", s1.rowsSeen, changes.measurement, {
      lookbackHours: mutation.lookbackMs / 3_600_000,
      added: mutation.added,
      changed: mutation.changed,
      windows: s1.windows,
      pages: s1.pages,
      inserted: s1.inserted,
      updated: s1.updated,
      unchanged: s1.unchanged,
    });
    say(`  ${rate(phases.syncIncrementalChanges)}, ${changes.measurement.apiRequests} requests`);
    checks.push({ what: "changes-run inserted", expected: mutation.added, actual: s1.inserted });
    checks.push({ what: "changes-run updated", expected: mutation.changed, actual: s1.updated });
    const held = await heldCounts(syncDb.url);
    checks.push({ what: "rows held after changes", expected: n + mutation.added, actual: held.rows });
    checks.push({ what: "versions held after changes", expected: n + mutation.added + mutation.changed, actual: held.versions });
    const history = await queryOne<{ n: number }>(syncDb.url, "SELECT count(*)::int AS n FROM transaction_history");
    checks.push({ what: "superseded versions in transaction_history", expected: mutation.changed, actual: history.n });
  } finally {
    await syncDb.drop().catch(() => {});
  }

  // 3c. further pairs of backfills for the storage comparison, on the ledger as the changes left it
  const storagePairs: StoragePair[] = [];
  for (let pair = 2; pair <= (args.previousWritePath ? args.storageRounds : 1); pair++) {
    const previousFirst = pair % 2 === 1;
    const backfills: Partial<StoragePair> = {};
    for (const path of previousFirst ? (["previous", "current"] as const) : (["current", "previous"] as const)) {
      say(
        `storage pair ${pair} of ${args.storageRounds}: full backfill with the ${path === "current" ? "sync's" : "previous release's"} write path`,
      );
      const backfill = await writePathBackfill(
        server,
        context,
        measured,
        path,
        C,
        args.snapshots,
        `storage pair ${pair}: full backfill, ${path} write path`,
      );
      backfills[path] = backfill;
      say(`  ${rate(backfill)}`);
      checks.push({ what: `storage pair ${pair}: ${path} write path rows held`, expected: backfill.rows, actual: backfill.details.held });
    }
    storagePairs.push(backfills as StoragePair);
  }

  // 4. naive baseline
  const naiveDb = await createScratchDatabase(server, "naive");
  try {
    await checkpoint(server);
    say(`naive: ${args.naiveRows} rows, sequential pages, one Prisma upsert per row`);
    const result = await measure(measured, () => naive(context, naiveDb.url, args.naiveRows));
    phases.naive = phaseReport("naive: 1 page at a time, Prisma upsert per row", result.result.rows, result.measurement, {
      pages: result.result.pages,
    });
    say(`  ${rate(phases.naive)}`);
    checks.push({ what: "naive rows", expected: args.naiveRows, actual: result.result.rows });
  } finally {
    await naiveDb.drop().catch(() => {});
  }

  const { windowMs, windowRows } = benchConfig(context, undefined, C);
  return assemble(
    args,
    server,
    n,
    pageSize,
    { windowMs, windowRows },
    phases,
    checks,
    sweep,
    { start: loadAtStart, end: os.loadavg()[0]! },
    storagePairs,
  );
}

type StoragePair = { current: PhaseReport; previous: PhaseReport };

/**
 * One full backfill with a write path (this release's, or the previous release's into a database
 * of its shape), into a database of its own, dropped after: the run's previous-path phase and the
 * further pairs of --storage-rounds. Details: its windows and inserts, then, outside the
 * measurement, its bytes on disk and the rows it holds.
 */
async function writePathBackfill(
  server: BenchServer,
  context: PhaseContext,
  measured: MeasureContext,
  path: keyof StoragePair,
  concurrency: number,
  snapshots: boolean,
  label: string,
): Promise<PhaseReport & { details: { bytesOnDisk: number; bytesOnDiskByTable: DiskBytes["byTable"]; held: number } }> {
  const db = path === "previous" ? await createPreviousDatabase(server) : await createScratchDatabase(server, "sync");
  try {
    await checkpoint(server);
    const backfill = await measure(measured, () =>
      syncOnce(context, db.url, { concurrency, snapshots, ...(path === "previous" ? { writePath: legacyWritePath } : {}) }),
    );
    await checkpoint(server);
    const disk = await diskBytes(db.url);
    const details = {
      windows: backfill.result.windows,
      inserted: backfill.result.inserted,
      bytesOnDisk: disk.total,
      bytesOnDiskByTable: disk.byTable,
      held: (await heldCounts(db.url)).rows,
    };
    return { ...phaseReport(label, backfill.result.rowsSeen, backfill.measurement, details), details };
  } finally {
    await db.drop().catch(() => {});
  }
}

async function reportProfile(file: string, say: (line: string) => void): Promise<void> {
  const top = summarizeProfile(JSON.parse(await readFile(file, "utf8")), 20);
  say(`CPU profile of the sync backfill written to ${file}; top self time:`);
  for (const e of top)
    say(
      `  ${e.selfPercent.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.functionName}  ${e.url.replace(/^file:\/\//, "")}:${e.line}`,
    );
}

function latencyBound(concurrency: number, pageSize: number, latencyMs: number): number | null {
  return latencyMs > 0 ? Math.round((concurrency * pageSize) / (latencyMs / 1000)) : null;
}

async function concurrencySweep(
  args: BenchArgs,
  context: PhaseContext,
  measured: MeasureContext,
  mainApi: PhaseReport,
  mainSync: PhaseReport,
  pageSize: number,
): Promise<NonNullable<BenchReport["sweep"]>> {
  const points: SweepPoint[] = [];
  for (const c of args.concurrencies) {
    let apiRate = mainApi.rowsPerSec;
    let syncRate = mainSync.rowsPerSec;
    if (c !== args.concurrency) {
      await checkpoint(context.server);
      context.say(`sweep: API ceiling at concurrency ${c}`);
      const api = await measure(measured, () => apiCeiling(context, c));
      apiRate = phaseReport("", api.result.rows, api.measurement).rowsPerSec;
      const db = await createScratchDatabase(context.server, `sweep${c}`);
      try {
        await checkpoint(context.server);
        context.say(`sweep: sync backfill at concurrency ${c}`);
        const sync = await measure(measured, () => syncOnce(context, db.url, { concurrency: c, snapshots: args.snapshots }));
        syncRate = phaseReport("", sync.result.rowsSeen, sync.measurement).rowsPerSec;
      } finally {
        await db.drop().catch(() => {});
      }
    }
    context.say(`  concurrency ${c}: API ceiling ${apiRate} rows/s, sync ${syncRate} rows/s`);
    points.push({
      concurrency: c,
      apiRowsPerSec: apiRate,
      syncRowsPerSec: syncRate,
      latencyBoundRowsPerSec: latencyBound(c, pageSize, args.latencyMs),
    });
  }
  return { chart: args.chart!, points };
}

function assemble(
  args: BenchArgs,
  server: BenchServer,
  n: number,
  pageSize: number,
  windows: { windowMs: number; windowRows: number },
  phases: BenchReport["phases"],
  checks: BenchReport["verification"]["checks"],
  sweep: BenchReport["sweep"],
  loadAverage: BenchReport["settings"]["loadAverage"],
  storagePairs: StoragePair[],
): BenchReport {
  const api = phases.apiCeiling!;
  const db = phases.dbCeiling!;
  const sync = phases.syncBackfill!;
  const none = phases.syncIncrementalNothingNew!;
  const naivePhase = phases.naive!;
  const ceilingIs = api.rowsPerSec <= db.rowsPerSec ? "API" : "DB";
  const ceiling = Math.min(api.rowsPerSec, db.rowsPerSec);
  const bound = latencyBound(args.concurrency, pageSize, args.latencyMs);
  const ratios: BenchReport["ratios"] = {
    ceilingRowsPerSec: ceiling,
    ceilingIs,
    syncVsCeiling: round(sync.rowsPerSec / ceiling),
    syncVsNaive: round(sync.rowsPerSec / naivePhase.rowsPerSec),
    latencyBoundRowsPerSec: bound,
    syncVsLatencyBound: bound === null ? null : round(sync.rowsPerSec / bound),
    // With latency the sync waits on round trips, not on CPU.
    cpuBound: args.latencyMs === 0 ? cpuBound(sync, args.simulator, ceiling, os.availableParallelism()) : null,
    storage: storageComparison(sync, phases.syncBackfillPrevious, storagePairs),
  };

  const targets: TargetCheck[] = [];
  // The issue sets these two at zero latency (with latency, both sides wait on the same round trips).
  if (args.latencyMs === 0) {
    targets.push({
      target: "full backfill ≥ 0.7 × min(API, DB ceiling)",
      actual: `${ratios.syncVsCeiling.toFixed(2)} × (${ceilingIs} ceiling)`,
      met: ratios.syncVsCeiling >= 0.7,
    });
    targets.push({ target: "full backfill ≥ 10 × naive", actual: `${ratios.syncVsNaive.toFixed(1)} ×`, met: ratios.syncVsNaive >= 10 });
  }
  if (bound !== null) {
    targets.push({
      target: "full backfill ≥ 0.85 × latency bound",
      actual: `${ratios.syncVsLatencyBound!.toFixed(2)} × ${bound.toLocaleString("en-US")} rows/s`,
      met: ratios.syncVsLatencyBound! >= 0.85,
    });
  }
  if (ratios.storage) {
    const { postgresMicrosPerRow: c, bytesPerRow: b, rounds, medianRatio } = ratios.storage;
    targets.push(
      rounds.length === 1
        ? {
            target: "backfill: Postgres CPU per row ≤ 0.65 × the previous write path's (same run)",
            actual: `${c.current.toFixed(1)} vs ${c.previous.toFixed(1)} µs = ${ratioText(c.ratio)} ×`,
            met: c.ratio !== null && c.ratio <= 0.65,
          }
        : {
            target: `backfill: Postgres CPU per row ≤ 0.65 × the previous write path's (median of ${rounds.length} alternating pairs, same run)`,
            actual: `${ratioText(medianRatio)} × (pairs: ${rounds.map((r) => ratioText(r.ratio)).join(", ")})`,
            met: medianRatio !== null && medianRatio <= 0.65,
          },
    );
    targets.push({
      target: "backfill: bytes on disk per row, every table of the schema, ≤ 0.6 × the previous schema's",
      actual: `${b.current.toFixed(0)} vs ${b.previous.toFixed(0)} bytes = ${b.ratio.toFixed(2)} ×`,
      met: b.ratio <= 0.6,
    });
  }
  if (phases.syncCli) {
    targets.push({
      target: "peak RSS of `generect-sync run` (full backfill) ≤ 200 MB",
      actual: `${phases.syncCli.peakRssMB.toFixed(0)} MB`,
      met: phases.syncCli.peakRssMB <= 200,
    });
  }
  const d = none.details as { rowsInLookback: number; windows: number };
  const requestBudget = Math.ceil(d.rowsInLookback / pageSize) + 2 * Math.max(1, d.windows);
  const pageRequests = none.apiRequestsByPath[TRANSACTIONS_PATH] ?? 0;
  targets.push({
    target: `incremental (nothing new): transactions requests ≤ pages of the ${d.rowsInLookback} rows in the lookback + 2 per window = ${requestBudget}`,
    actual: `${pageRequests} requests${none.apiRequests > pageRequests ? ` (+ ${none.apiRequests - pageRequests} spent_credits of the snapshot pass)` : ""}`,
    met: pageRequests <= requestBudget,
  });
  // One request's latency as the API ceiling saw it (C in flight): wall × C / requests.
  const perRequestMs = api.apiRequests > 0 ? (api.wallMs * args.concurrency) / api.apiRequests : 0;
  const wallBudget = 1500 + none.apiRequests * perRequestMs;
  targets.push({
    target: `incremental (nothing new): wall ≤ 1.5 s + ${none.apiRequests} requests × ${perRequestMs.toFixed(1)} ms = ${(wallBudget / 1000).toFixed(2)} s`,
    actual: `${(none.wallMs / 1000).toFixed(2)} s`,
    met: none.wallMs <= wallBudget,
  });

  return {
    settings: {
      rows: n,
      latencyMs: args.latencyMs,
      concurrency: args.concurrency,
      pageSize,
      naiveRows: args.naiveRows,
      seed: args.seed,
      simulator: args.simulator,
      snapshots: args.snapshots,
      ...windows,
      database: server.description,
      node: process.version,
      cpus: os.availableParallelism(),
      code: codeVersion() ?? null,
      loadAverage,
    },
    phases,
    ratios,
    targets,
    verification: { ok: checks.every((c) => c.expected === c.actual), checks },
    ...(sweep ? { sweep } : {}),
  };
}

export async function writeChart(report: BenchReport): Promise<void> {
  if (!report.sweep) return;
  const points = report.sweep.points;
  const s = report.settings;
  const hasBound = points.some((p) => p.latencyBoundRowsPerSec !== null);
  const svg = lineChart({
    title: `generect-sync: ${s.rows.toLocaleString("en-US")} rows, latency ${s.latencyMs} ms`,
    xLabel: "concurrency (pages in flight)",
    yLabel: "rows/s",
    xs: points.map((p) => p.concurrency),
    series: [
      { name: "API ceiling", color: "#1f77b4", values: points.map((p) => p.apiRowsPerSec) },
      { name: "sync backfill", color: "#d62728", values: points.map((p) => p.syncRowsPerSec) },
      ...(hasBound ? [{ name: "latency bound", color: "#7f7f7f", dashed: true, values: points.map((p) => p.latencyBoundRowsPerSec) }] : []),
    ],
    reference: report.phases.dbCeiling
      ? { name: "DB ceiling (COPY)", value: report.phases.dbCeiling.rowsPerSec, color: "#2ca02c" }
      : undefined,
  });
  await writeFile(report.sweep.chart, svg);
}
