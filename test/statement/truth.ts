// The statement's figures computed again in plain JS from the simulator's own rows (the Ledger,
// not the database) and its own spent_credits answer: the independent side of the comparison.
import { addDecimals, ENDPOINT_LABELS, type SimTransaction, type SimulatorHandle } from "../../src/simulator/index.js";

export interface TruthLine {
  month: string;
  balance_type: string;
  opening_balance: string | null;
  charges: string;
  top_ups: string;
  refunds: string;
  reversed: string;
  pending: string;
  closing_balance: string | null;
  generect_spent: string;
  difference: string;
  balance_difference: string;
}

const sub = (a: string, b: string) => addDecimals(a, b.startsWith("-") ? b.slice(1) : b === "0" ? "0" : `-${b}`);

export function localMonth(naiveUtc: string, timezone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit" }).formatToParts(
    Date.parse(`${naiveUtc}Z`),
  );
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get("year")}-${get("month")}`;
}

function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  let [y, m] = first.split("-").map(Number) as [number, number];
  for (let month = first; month <= last; month = `${y}-${String(m).padStart(2, "0")}`) {
    out.push(month);
    if (m === 12) {
      y += 1;
      m = 1;
    } else m += 1;
  }
  return out;
}

/**
 * Generect's daily spend per "YYYY-MM-DD|balance_type" as the simulator answers it now, over every
 * day of the ledger: what a capture taken at this moment would store.
 */
export function spentByDay(sim: SimulatorHandle, timezone: string): Map<string, string> {
  const labelType = Object.fromEntries(Object.entries(ENDPOINT_LABELS).map(([type, label]) => [label, type]));
  const answer = sim.ledger.spentCredits({ timezone, period: "day", startDate: "2000-01-01", endDate: "2100-01-01" });
  const out = new Map<string, string>();
  for (const [key, labels] of Object.entries(answer.spent_credits)) {
    for (const [label, value] of Object.entries(labels)) out.set(`${key.slice(0, 10)}|${labelType[label] ?? label}`, value);
  }
  return out;
}

/** Daily figures summed per "YYYY-MM|balance_type". */
export function perMonth(daily: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of daily) {
    const k = `${key.slice(0, 7)}|${key.split("|")[1]}`;
    out.set(k, addDecimals(out.get(k) ?? "0", value));
  }
  return out;
}

/** Every month x balance type from the oldest row's month to `lastMonth`, as the README's rules define them. */
export function truthLines(sim: SimulatorHandle, timezone: string, lastMonth: string, spent: Map<string, string>): TruthLine[] {
  const rows: (SimTransaction & { month: string })[] = sim.ledger
    .all()
    .reverse()
    .map((r) => ({ ...r, month: localMonth(r.created_at, timezone) }));
  const months = monthsBetween(rows[0]!.month, lastMonth);
  const types = [...new Set(rows.map((r) => r.balance_type))].sort((a, b) =>
    a === "platform" ? -1 : b === "platform" ? 1 : a < b ? -1 : 1,
  );
  const lines: TruthLine[] = [];
  for (const month of months) {
    for (const type of types) {
      const own = rows.filter((r) => r.balance_type === type);
      const before = own.filter((r) => r.month < month).at(-1);
      const upTo = own.filter((r) => r.month <= month).at(-1);
      const generect = spent.get(`${month}|${type}`);
      if (!upTo && !generect) continue;
      const inMonth = own.filter((r) => r.month === month);
      const sum = (pick: (r: SimTransaction) => boolean) => inMonth.filter(pick).reduce((acc, r) => addDecimals(acc, r.amount), "0");
      const neg = (r: SimTransaction) => r.amount.startsWith("-");
      const pos = (r: SimTransaction) => !neg(r) && r.amount !== "0";
      const refund = (r: SimTransaction) => /refund/i.test(r.description);
      const line = {
        month,
        balance_type: type,
        opening_balance: before?.after_balance ?? null,
        charges: sum((r) => r.status === "success" && neg(r)),
        top_ups: sum((r) => r.status !== "pending" && pos(r) && !refund(r)),
        refunds: sum((r) => r.status !== "pending" && pos(r) && refund(r)),
        reversed: sum((r) => r.status === "error" && neg(r)),
        pending: sum((r) => r.status === "pending"),
        closing_balance: upTo?.after_balance ?? null,
        generect_spent: generect ?? "0",
      };
      const moved = [line.charges, line.top_ups, line.refunds, line.reversed, line.pending].reduce(
        addDecimals,
        line.opening_balance ?? "0",
      );
      lines.push({
        ...line,
        difference: sub(line.generect_spent, line.charges),
        balance_difference: line.closing_balance === null ? "?" : sub(line.closing_balance, moved),
      });
    }
  }
  return lines;
}
