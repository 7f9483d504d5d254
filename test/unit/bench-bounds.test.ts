// The bench's zero-latency bounds: CPU seconds of measured phases, per row, spread over the CPUs.
import { describe, expect, test } from "@jest/globals";
import { cpuBound, storageComparison } from "../../src/bench/bounds.js";
import type { PhaseReport } from "../../src/bench/report.js";

function phase(rows: number, cpu: Partial<PhaseReport["cpuSeconds"]>): PhaseReport {
  return {
    label: "",
    rows,
    wallMs: 1000,
    rowsPerSec: rows,
    startRssMB: 0,
    peakRssMB: 0,
    apiRequests: 0,
    apiRequestsByPath: {},
    cpuSeconds: { node: 0, postgres: 0, simulator: null, other: 0, ...cpu },
    details: {},
  };
}

const rows = 1_000_000;
const ceiling = 52_030;

describe("storageComparison", () => {
  test("divides each backfill's Postgres CPU and bytes on disk by its rows, and compares them", () => {
    const current = { ...phase(rows, { postgres: 30 }), details: { bytesOnDisk: 450e6 } };
    const previous = { ...phase(rows, { postgres: 60 }), details: { bytesOnDisk: 1000e6 } };
    expect(storageComparison(current, previous)).toEqual({
      postgresMicrosPerRow: { current: 30, previous: 60, ratio: 0.5 },
      rounds: [{ current: 30, previous: 60, ratio: 0.5 }],
      medianRatio: 0.5,
      bytesPerRow: { current: 450, previous: 1000, ratio: 0.45 },
    });
  });

  test("with further pairs (--storage-rounds), keeps each pair's ratio and takes their median; bytes stay the first pair's", () => {
    const current = { ...phase(rows, { postgres: 28.9 }), details: { bytesOnDisk: 645e6 } };
    const previous = { ...phase(rows, { postgres: 33.6 }), details: { bytesOnDisk: 1122e6 } };
    const pair = (now: number, before: number, n = rows) => ({
      current: phase(n, { postgres: now }),
      previous: phase(n, { postgres: before }),
    });
    const odd = storageComparison(current, previous, [pair(24.6, 42), pair(10.1, 15.15, 500_000)])!;
    expect(odd.rounds).toEqual([
      { current: 28.9, previous: 33.6, ratio: 0.86 },
      { current: 24.6, previous: 42, ratio: 0.586 },
      { current: 20.2, previous: 30.3, ratio: 0.667 },
    ]);
    expect(odd.medianRatio).toBe(0.667);
    expect(odd.postgresMicrosPerRow).toEqual(odd.rounds[0]);
    expect(odd.bytesPerRow).toEqual({ current: 645, previous: 1122, ratio: 0.575 });
    expect(storageComparison(current, previous, [pair(24.6, 42)])!.medianRatio).toBe(0.723); // (0.86 + 0.586) / 2
    expect(storageComparison(current, previous, [{ current: phase(rows, { postgres: null }), previous }])).toBeNull();
  });

  test("a pair whose previous path measured no Postgres CPU (under one clock tick) has no ratio, and the median leaves it out", () => {
    const current = { ...phase(rows, { postgres: 30 }), details: { bytesOnDisk: 450e6 } };
    const previous = { ...phase(rows, { postgres: 60 }), details: { bytesOnDisk: 1000e6 } };
    const unmeasured = { current: phase(rows, { postgres: 20 }), previous: phase(rows, { postgres: 0 }) };
    const comparison = storageComparison(current, previous, [unmeasured, { current: phase(rows, { postgres: 42 }), previous }])!;
    expect(comparison.rounds.map((r) => r.ratio)).toEqual([0.5, null, 0.7]);
    expect(comparison.medianRatio).toBe(0.6);
    expect(
      storageComparison(
        { ...current, cpuSeconds: { ...current.cpuSeconds, postgres: 0 } },
        { ...previous, cpuSeconds: { ...previous.cpuSeconds, postgres: 0 } },
      )!.medianRatio,
    ).toBeNull();
  });

  test("is unknown without the previous phase, its bytes, or Postgres's CPU (a remote server)", () => {
    const current = { ...phase(rows, { postgres: 30 }), details: { bytesOnDisk: 450e6 } };
    expect(storageComparison(current, undefined)).toBeNull();
    expect(storageComparison(current, phase(rows, { postgres: 60 }))).toBeNull();
    expect(storageComparison(current, { ...phase(rows, { postgres: null }), details: { bytesOnDisk: 1 } })).toBeNull();
  });
});

describe("cpuBound", () => {
  test("spreads the backfill's own CPU per row over the CPUs and says what 0.7 × ceiling would need", () => {
    const bound = cpuBound(phase(rows, { node: 26.4, postgres: 61.4, simulator: 7.4 }), "process", ceiling, 2)!;
    expect(bound.microsPerRow).toEqual({ node: 26.4, postgres: 61.4, simulator: 7.4, total: 95.2 });
    expect(bound.rowsPerSec).toBe(Math.round(2e6 / 95.2)); // 21,008
    expect(bound.vsCeiling).toBe(0.404);
    expect(bound.forTargetMicrosPerRow).toBe(54.9); // 2e6 / (0.7 × 52,030)
  });
});
