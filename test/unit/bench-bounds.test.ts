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

// CPU seconds of the README's 1M-row run (simulator in a child process); ceiling 98,664 rows/s.
const rows = 1_000_000;
const measured = {
  apiCeiling: phase(rows, { node: 9.9, postgres: 0, simulator: 2.8 }),
  dbCopyIndexed: phase(rows, { node: 1.4, postgres: 17.3, simulator: 0 }),
  dbCopyVersions: phase(rows, { node: 1.5, postgres: 15.0, simulator: 0 }),
};

describe("workBound", () => {
  test("adds fetching and writing both tables per row, and spreads the sum over the CPUs", () => {
    const bound = workBound(measured, "process", 98_664, 2)!;
    expect(bound.microsPerRow).toEqual({ fetch: 12.7, transactions: 18.7, versions: 16.5, total: 47.9 });
    expect(bound.rowsPerSec).toBe(Math.round(2e6 / 47.9)); // 41,754
    expect(bound.vsCeiling).toBe(0.423);
    expect(workBound(measured, "process", 98_664, 4)!.rowsPerSec).toBe(Math.round(4e6 / 47.9));
  });

  test("an inline simulator's CPU is already in node's and is not added again", () => {
    const inline = { ...measured, apiCeiling: phase(rows, { node: 12.7, postgres: 0, simulator: 5 }) };
    expect(workBound(inline, "inline", 98_664, 2)!.microsPerRow.fetch).toBe(12.7);
  });

  test("is unknown when a phase is missing or Postgres's CPU could not be read (a remote server)", () => {
    expect(workBound({ ...measured, dbCopyVersions: undefined }, "process", 98_664, 2)).toBeNull();
    expect(workBound({ ...measured, dbCopyIndexed: phase(rows, { node: 1.4, postgres: null }) }, "process", 98_664, 2)).toBeNull();
    expect(workBound({ ...measured, apiCeiling: phase(rows, { node: 9.9, simulator: null }) }, "process", 98_664, 2)).toBeNull();
  });
});

describe("cpuBound", () => {
  test("spreads the backfill's own CPU per row over the CPUs and says what 0.7 × ceiling would need", () => {
    const bound = cpuBound(phase(rows, { node: 16.5, postgres: 32.1, simulator: 4.4 }), "process", 98_664, 2)!;
    expect(bound.microsPerRow).toEqual({ node: 16.5, postgres: 32.1, simulator: 4.4, total: 53 });
    expect(bound.rowsPerSec).toBe(Math.round(2e6 / 53));
    expect(bound.vsCeiling).toBe(0.382);
    expect(bound.forTargetMicrosPerRow).toBe(29); // 2e6 / (0.7 × 98,664)
  });
});
