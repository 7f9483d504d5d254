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

/** What parseJsonElementsKeepingNumbers read: the value, and the JSON text of each element of its array. */
export interface ParsedWithElements {
  value: unknown;
  /** Each element of `value[key]` as JSON text (number literals verbatim), when that is an array; else undefined. */
  elements: string[] | undefined;
}

/** Put in the envelope where its array was: its JSON text must then occur once in the envelope's (checked). */
const elementsMarkValue = "\u0000elements\u0000";
const elementsMark = JSON.stringify(elementsMarkValue);

/**
 * parseJsonKeepingNumbers for a body whose array member `key` is wanted element by element as JSON
 * text too (a page's rows, each kept as `raw`). The plain parse is exact when stringifying it gives
 * back the text; that text is put together from each element's own text (wanted anyway) and the
 * envelope's with a mark where the array was, and compared piece by piece with the body, so no
 * element is stringified twice and no copy of the whole body is made. The mark must occur once in
 * the envelope's text (it is then where the array is); otherwise, or when the plain parse is not
 * exact, the body is read as parseJsonKeepingNumbers reads it and each element stringified from that.
 */
export function parseJsonElementsKeepingNumbers(text: string, key: string): ParsedWithElements {
  const plain: unknown = JSON.parse(text);
  if (plain !== null && typeof plain === "object" && !Array.isArray(plain)) {
    const list = (plain as Record<string, unknown>)[key];
    if (Array.isArray(list) && Object.hasOwn(plain, key)) {
      const elements = list.map((element) => JSON.stringify(element) as string);
      if (sameText(text, plain as Record<string, unknown>, key, elements)) return { value: plain, elements };
    }
  }
  const value = parseJsonKeepingNumbers(text);
  const list = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return { value, elements: Array.isArray(list) ? list.map((element) => JSON.stringify(element) ?? "null") : undefined };
}

/**
 * Whether JSON.stringify(envelope) === text, with envelope[key]'s elements already stringified:
 * compared piece by piece against slices of the text (a slice shares the text's characters), so
 * no string the size of the body is made (putting it together and comparing cost as much CPU and
 * twice the allocation).
 */
function sameText(text: string, envelope: Record<string, unknown>, key: string, elements: string[]): boolean {
  const outer = JSON.stringify({ ...envelope, [key]: elementsMarkValue });
  const at = outer.indexOf(elementsMark);
  if (at < 0 || outer.lastIndexOf(elementsMark) !== at) return false;
  let length = outer.length - elementsMark.length + 2 + Math.max(0, elements.length - 1);
  for (const element of elements) length += element.length;
  if (length !== text.length || !text.startsWith(outer.slice(0, at)) || !text.endsWith(outer.slice(at + elementsMark.length))) return false;
  let position = at;
  if (text.charCodeAt(position++) !== 91) return false; // [
  for (let i = 0; i < elements.length; i++) {
    if (i > 0 && text.charCodeAt(position++) !== 44) return false; // ,
    const element = elements[i]!;
    if (text.slice(position, position + element.length) !== element) return false;
    position += element.length;
  }
  return text.charCodeAt(position) === 93; // ]
}

export function isExactNumber(value: unknown): value is ExactNumber {
  return typeof value === "number" || JSON.isRawJSON(value);
}

/** The number as the API wrote it. */
export function numberLiteral(value: ExactNumber): string {
  return typeof value === "number" ? String(value) : value.rawJSON; // String and JSON.stringify print a number alike
}
