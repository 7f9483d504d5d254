// Money must survive the trip from the API's JSON text to NUMERIC exactly. JSON.parse turns
// `-0.1` into a double; parsing with the source text (JSON.rawJSON, Node >= 22) keeps the literal,
// and JSON.stringify writes it back verbatim into `raw`.
declare global {
  interface JSON {
    rawJSON(text: string): RawJSON;
    isRawJSON(value: unknown): value is RawJSON;
  }
}

export interface RawJSON {
  readonly rawJSON: string;
}

/** JSON.parse that keeps every number as its source literal (a RawJSON). */
export function parseJsonKeepingNumbers(text: string): unknown {
  return (JSON.parse as (text: string, reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown) => unknown)(
    text,
    (_key, value, context) => (typeof value === "number" && context.source !== undefined ? JSON.rawJSON(context.source) : value),
  );
}

export function isRawNumber(value: unknown): value is RawJSON {
  return JSON.isRawJSON(value);
}
