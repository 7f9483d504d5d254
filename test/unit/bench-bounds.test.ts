// The bench's zero-latency bounds: CPU seconds of measured phases, per row, spread over the CPUs.
import { describe, expect, test } from "@jest/globals";
import { cpuBound, workBound } from "../../src/bench/bounds.js";
import type { PhaseReport } from "../../src/bench/report.js";

function phase(rows: number, cpu: Partial<PhaseReport["cpuSeconds"]>): PhaseReport {
  return {
    label: "", rows, wallMs: 1000, rowsPerSec: rows, startRssMB: 0, peakRssMB: 0, apiRequests: 0, apiRequestsByPath: {},
    cpuSeconds: { node: 0, postgres: 0, simulator: null, other: 0, ...cpu }, details: {},
  };
}

// CPU seconds of the 1M-row run in the README (simulator in a child process); ceiling 52,030 rows/s.
const rows = 1_000_000;
const ceiling = 52_030;
const measured = {
  apiCeiling: phase(rows, { node: 18.4, postgres: 0, simulator: 6.1 }),
  dbCopyIndexed: phase(rows, { node: 2.1, postgres: 34.3, simulator: 0 }),
  dbCopyVersions: phase(rows, { node: 1.8, postgres: 22.6, simulator: 0 }),
};

describe("workBound", () => {
  test("adds fetching and writing both tables per row, and spreads the sum over the CPUs", () => {
    const bound = workBound(measured, "process", ceiling, 2)!;
    expect(bound.microsPerRow).toEqual({ fetch: 24.5, transactions: 36.4, versions: 24.4, total: 85.3 });
    expect(bound.rowsPerSec).toBe(Math.round(2e6 / 85.3)); // 23,447
    expect(bound.vsCeiling).toBe(0.451);
    expect(workBound(measured, "process", ceiling, 4)!.rowsPerSec).toBe(Math.round(4e6 / 85.3));
  });

  test("an inline simulator's CPU is already in node's and is not added again", () => {
    const inline = { ...measured, apiCeiling: phase(rows, { node: 24.5, postgres: 0, simulator: 6.1 }) };
    expect(workBound(inline, "inline", ceiling, 2)!.microsPerRow.fetch).toBe(24.5);
  });

  test("is unknown when a phase is missing or Postgres's CPU could not be read (a remote server)", () => {
    expect(workBound({ ...measured, dbCopyVersions: undefined }, "process", ceiling, 2)).toBeNull();
    expect(workBound({ ...measured, dbCopyIndexed: phase(rows, { node: 2.1, postgres: null }) }, "process", ceiling, 2)).toBeNull();
    expect(workBound({ ...measured, apiCeiling: phase(rows, { node: 18.4, simulator: null }) }, "process", ceiling, 2)).toBeNull();
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
