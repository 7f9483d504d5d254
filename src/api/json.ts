// Money must survive the trip from the API's JSON text to NUMERIC exactly. JSON.parse turns
// `-0.10` into the double 0.1; parsing with the source text (JSON.rawJSON, Node >= 22) keeps the
// literal, and JSON.stringify writes it back verbatim into `raw`.
declare global {
  interface JSON {
    rawJSON(text: string): RawJSON;
    isRawJSON(value: unknown): value is RawJSON;
  }
}

export interface RawJSON {
  readonly rawJSON: string;
}

/** A number from the API: a plain double that prints as its literal, or the literal itself. */
export type ExactNumber = number | RawJSON;

/**
 * JSON.parse that keeps every number literal. Most bodies are printed the way JSON.stringify
 * prints them; when stringifying the plain parse gives back the text byte for byte, every number
 * literal is what its double prints (no trailing zero, no exponent, no digit a double cannot
 * hold), so the plain parse is exact. That check costs a third of a parse with a reviver, which
 * was a quarter of the client's CPU per page (profiled). Any other body is parsed again with each
 * number's source text.
 */
export function parseJsonKeepingNumbers(text: string): unknown {
  const plain: unknown = JSON.parse(text);
  if (JSON.stringify(plain) === text) return plain;
  return (
    JSON.parse as (text: string, reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown) => unknown
  )(text, (_key, value, context) => (typeof value === "number" && context.source !== undefined ? JSON.rawJSON(context.source) : value));
}

export function isExactNumber(value: unknown): value is ExactNumber {
  return typeof value === "number" || JSON.isRawJSON(value);
}

/** The number as the API wrote it. */
export function numberLiteral(value: ExactNumber): string {
  return typeof value === "number" ? JSON.stringify(value) : value.rawJSON;
}
