// Postgres array literals for the loader's parameters. node-postgres turns a JS array into a literal
// by appending element after element and escaping each one with two regex replaces: for a
// 1,000-row batch that is most of what the sync allocates (940 of 2,160 MB sampled over a
// 200,000-row backfill, V8's sampling heap profiler), and the garbage collector's work follows.
// Here every element is quoted and the whole literal is one join; only an element that holds a
// quote or a backslash is escaped.

const needsEscape = /["\\]/;

function escapeElement(value: string): string {
  return needsEscape.test(value) ? value.replace(/["\\]/g, "\\$&") : value;
}

/**
 * `{"a","b"}`: a one-dimensional array literal of strings, for a `$n::type[]` parameter (uuid,
 * timestamptz, numeric and text alike: Postgres parses each quoted element with the type's input).
 * No element is NULL: a quoted "NULL" is the text NULL.
 */
export function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return "{}";
  const escaped = values.some((value) => needsEscape.test(value)) ? values.map(escapeElement) : values;
  return `{"${escaped.join('","')}"}`;
}

/** arrayLiteral with NULL elements: a null is the unquoted NULL, every string is quoted. */
export function nullableArrayLiteral(values: readonly (string | null)[]): string {
  if (!values.includes(null)) return arrayLiteral(values as readonly string[]);
  return `{${values.map((value) => (value === null ? "NULL" : `"${escapeElement(value)}"`)).join(",")}}`;
}

/** `[a,b]`: JSON texts joined into one JSON array, for a `$n::json` parameter unnested with json_array_elements (which keeps each element's text). */
export function jsonArrayText(jsonTexts: readonly string[]): string {
  return `[${jsonTexts.join(",")}]`;
}
