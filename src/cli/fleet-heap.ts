import { setFlagsFromString } from "node:v8";
import { wholeNumber } from "../config/index.js";

/**
 * How much V8 lets the old generation grow past what the last full collection kept, in percent, in
 * a process syncing a fleet (SYNC_HEAP_GROWTH).
 *
 * V8 picks the factor from the heap's cap, about 1.3 to 1.8 under the CLI's. A fleet keeps many
 * accounts' pages and windows in flight; they outlive the young generation, so the old generation
 * filled and was marked again every half second, and V8's collector threads took 29% of the
 * process's CPU. At 150% the fleet bench's `run --all` costs about a tenth less CPU a row (a fifth
 * under the manifests' smaller heap flags) for 30-35 MB more peak RSS (README, "Fleet").
 *
 * A single account's run keeps V8's own factor: its peak RSS target is 200 MB, the fleet's 250.
 * `--max-old-space-size` still caps the heap, so the manifests' 160 MB holds under their 256 Mi.
 */
export const defaultHeapGrowingPercent = 150;

const growingFlag = /^--heap[-_]growing[-_]percent(=|$)/;

/** SYNC_HEAP_GROWTH: a whole percent, 0 for V8's own choice. */
export function readHeapGrowingPercent(env: Record<string, string | undefined>): number {
  return wholeNumber(env, "SYNC_HEAP_GROWTH", defaultHeapGrowingPercent, 0, 1000);
}

/**
 * Sets V8's heap growing factor for this process, unless Node was started with the flag (it is not
 * allowed in NODE_OPTIONS; SYNC_HEAP_GROWTH is the setting). V8 reads the flag each time it sets
 * the next collection's limit, and Node leaves its flags writable after start, so it takes effect
 * from the next full collection (test/cli/fleet-heap.test.ts). Returns whether it was set.
 */
export function growFleetHeap(
  percent: number,
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flags: string) => void = setFlagsFromString,
): boolean {
  if (execArgv.some((flag) => growingFlag.test(flag))) return false;
  setFlags(`--heap-growing-percent=${percent}`);
  return true;
}
