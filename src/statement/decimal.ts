// Exact decimal text for the statement's totals and its locale formatting. Postgres has done the
// sums of the ledger; what is left (column totals, grouping) must stay exact too, so decimals are
// BigInt with as many fraction digits as the inputs carry: no scale cap, unlike the simulator's.

function parse(text: string): { units: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const frac = m[3] ?? "";
  const units = BigInt(m[2]! + frac);
  return { units: m[1] ? -units : units, scale: frac.length };
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, "");
  const body = frac ? `${int}.${frac}` : int;
  return negative && body !== "0" ? `-${body}` : body;
}

/** Exact sum of decimal texts, canonical (no trailing fraction zeros, no "-0"). */
export function sumDecimals(values: readonly string[]): string {
  const parsed = values.map(parse);
  const scale = Math.max(0, ...parsed.map((p) => p.scale));
  const total = parsed.reduce((acc, p) => acc + p.units * 10n ** BigInt(scale - p.scale), 0n);
  return format(total, scale);
}

/** "1234567.5" as the locale writes it ("1,234,567.5" in en-US, "1.234.567,5" in de-DE), digit for digit. */
export function groupDecimal(text: string, locale: string): string {
  const parts = new Intl.NumberFormat(locale).formatToParts(11111.5);
  const group = parts.find((p) => p.type === "group")?.value ?? ",";
  const point = parts.find((p) => p.type === "decimal")?.value ?? ".";
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return text;
  const int = m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${m[1] ? "-" : ""}${int}${m[3] ? point + m[3] : ""}`;
}
