// Postgres' sum(numeric), computed here: exact, and written with the largest scale of the values
// summed (1.5 + 2.25 + 3 is 6.75, -0.50 + 0.5 is 0.00), which is the text Postgres gives back.
// Values are integers of units of 10^-scale: a double while they stay exact, a BigInt past that.

type Units = number | bigint;

function times10(units: Units, digits: number): Units {
  if (digits === 0) return units;
  if (typeof units === "number") {
    const scaled = units * 10 ** digits;
    if (Number.isSafeInteger(scaled)) return scaled;
    return BigInt(units) * 10n ** BigInt(digits);
  }
  return units * 10n ** BigInt(digits);
}

function plus(a: Units, b: Units): Units {
  if (typeof a === "number" && typeof b === "number") {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return BigInt(a) + BigInt(b);
}

export class NumericSum {
  #units: Units = 0;
  #scale = 0;

  /** Adds a value in Postgres' numeric text without exponent (storedNumeric's answer). */
  add(text: string): void {
    const negative = text.charCodeAt(0) === 45; // "-"
    const dot = text.indexOf(".");
    const scale = dot < 0 ? 0 : text.length - dot - 1;
    const digits = dot < 0 ? text.slice(negative ? 1 : 0) : text.slice(negative ? 1 : 0, dot) + text.slice(dot + 1);
    let value: Units = digits.length <= 15 ? Number(digits) : BigInt(digits);
    if (scale > this.#scale) {
      this.#units = times10(this.#units, scale - this.#scale);
      this.#scale = scale;
    }
    value = times10(value, this.#scale - scale);
    this.#units = plus(this.#units, negative ? -value : value);
  }

  /** The sum as Postgres writes it; "0" when nothing was added (as COALESCE(sum(...), 0) gives). */
  get text(): string {
    const negative = this.#units < 0;
    const digits = (negative ? -this.#units : this.#units).toString().padStart(this.#scale + 1, "0");
    const body = this.#scale === 0 ? digits : `${digits.slice(0, -this.#scale)}.${digits.slice(-this.#scale)}`;
    return negative ? `-${body}` : body;
  }
}
