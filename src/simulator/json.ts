// Builds response bodies as text. Money must reach the wire as the exact stored literal
// (-0.01, not -0.01000000000000000021), which JSON.stringify of a JS number cannot promise, so the
// page is assembled by hand with the decimal text spliced in as a number literal.

import type { SimTransaction } from "./types.js";

/**
 * A JSON number written verbatim. Rows handed to `faults.transformRow` carry amount and
 * after_balance as JsonNumber; replace them with a plain string to send a JSON string instead, with
 * a JS number to send that number, or with `new JsonNumber("1e400")` to send any literal you like.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  valueOf(): number {
    return Number(this.text);
  }
  toJSON(): number {
    return Number(this.text); // only reached when nested deeper than a row's top level
  }
}

const q = JSON.stringify;

export function rowJson(r: SimTransaction): string {
  return `{"id":${q(r.id)},"created_at":${q(r.created_at)},"updated_at":${q(r.updated_at)},"status":${q(r.status)},"balance_type":${q(r.balance_type)},"amount":${r.amount},"description":${q(r.description)},"after_balance":${r.after_balance}}`;
}

/** The row as `transformRow` sees it: the same keys and order as the wire, money as JsonNumber. */
export function rowForTamper(r: SimTransaction): Record<string, unknown> {
  return { ...r, amount: new JsonNumber(r.amount), after_balance: new JsonNumber(r.after_balance) };
}

/** Serialises a (possibly tampered) row object; `undefined` values drop the key, as in JSON.stringify. */
export function objectJson(obj: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || typeof v === "function") continue;
    parts.push(`${q(k)}:${v instanceof JsonNumber ? v.text : q(v)}`);
  }
  return `{${parts.join(",")}}`;
}

export interface PageEnvelope {
  count: number;
  next: string | null;
  previous: string | null;
  limit: number;
  max_limit: number;
  offset: number;
}

export function pageJson(env: PageEnvelope, rowsJson: string[]): string {
  return `{"count":${env.count},"next":${q(env.next)},"previous":${q(env.previous)},"limit":${env.limit},"max_limit":${env.max_limit},"offset":${env.offset},"results":[${rowsJson.join(",")}]}`;
}

export function spentCreditsJson(result: { spent_credits: Record<string, Record<string, string>>; total_spent_credits: string }): string {
  const buckets = Object.entries(result.spent_credits).map(
    ([bucket, labels]) =>
      `${q(bucket)}:{${Object.entries(labels)
        .map(([label, v]) => `${q(label)}:${v}`)
        .join(",")}}`,
  );
  return `{"spent_credits":{${buckets.join(",")}},"total_spent_credits":${result.total_spent_credits}}`;
}
