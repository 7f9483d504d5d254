// Shared helpers for the simulator tests: a hand-built ledger API and a raw HTTP client that keeps
// the body text (money exactness is asserted on the text, not on parsed floats).

import { type Ledger, type SimulatorHandle, type SimulatorOptions, startSimulator } from "../../src/simulator/index.js";

export const TOKEN = "test-token-123";

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function get(sim: SimulatorHandle, pathAndQuery: string, token: string | null = TOKEN): Promise<RawResponse> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Token ${token}` };
  const res = await fetch(`${sim.url}${pathAndQuery}`, { headers, redirect: "manual" });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function txPath(query: string | Record<string, string> = ""): string {
  const qs = typeof query === "string" ? query : new URLSearchParams(query).toString();
  return `/api/auth/transactions/${qs ? `?${qs}` : ""}`;
}

export function spentPath(query: Record<string, string>): string {
  return `/api/auth/transactions/spent_credits/?${new URLSearchParams(query)}`;
}

export async function withSimulator<T>(
  opts: Partial<SimulatorOptions> & { ledger?: Ledger },
  fn: (sim: SimulatorHandle) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator({ token: TOKEN, ...opts });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/** Exact decimal sum of decimal strings (test-side reference, independent of the simulator's code). */
export function sumDecimals(values: string[]): string {
  let total = 0n;
  for (const v of values) total += toMicro(v);
  const neg = total < 0n;
  const abs = neg ? -total : total;
  const int = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

export function toMicro(v: string): bigint {
  const neg = v.startsWith("-");
  const [int = "0", frac = ""] = v.replace(/^[-+]/, "").split(".");
  const units = BigInt(int) * 1_000_000n + BigInt(frac.padEnd(6, "0").slice(0, 6) || "0");
  return neg ? -units : units;
}
