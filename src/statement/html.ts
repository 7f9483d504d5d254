// The statement as one self-contained HTML file: inline CSS and SVG, no script, no network. Every
// money figure is printed from the Statement's exact text (grouped for the locale, digit for digit)
// and carries that text in data-value, so a reader, or a test, can check it against the CSV.
// Chart geometry is the one place numbers become floats: a pixel needs no exactness.
import { groupDecimal, sumDecimals } from "./decimal.js";
import type { Proof, Statement, StatementLine } from "./model.js";

export interface HtmlOptions {
  /** BCP 47 locale for digit grouping. @default "en-US" */
  locale?: string;
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563"];
const DAY_COLORS = { agrees: "#16a34a", differs: "#dc2626", incomplete: "#f59e0b", not_captured: "#d1d5db" } as const;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderHtml(s: Statement, opts: HtmlOptions = {}): string {
  const locale = opts.locale ?? "en-US";
  const money = (v: string | null, cls = "") =>
    v === null
      ? `<td class="na ${cls}" data-value="">n/a</td>`
      : `<td class="num ${cls}" data-value="${esc(v)}">${esc(groupDecimal(v, locale))}</td>`;
  const types = [...new Set(s.lines.map((l) => l.balance_type))];
  const color = (t: string) => COLORS[types.indexOf(t) % COLORS.length]!;
  const months = [...new Set(s.lines.map((l) => l.month))];

  const rows = s.lines.map(
    (l) => `<tr class="line${l.complete ? "" : " partial"}" data-month="${l.month}" data-type="${esc(l.balance_type)}">
<td>${l.month}${l.complete ? "" : " *"}</td><td>${esc(l.balance_type)}</td>${money(l.opening_balance, "opening_balance")}${money(l.charges, "charges")}${money(l.top_ups, "top_ups")}${money(l.refunds, "refunds")}${money(l.reversed, "reversed")}${money(l.pending, "pending")}${money(l.closing_balance, "closing_balance")}${money(l.balance_difference, `balance_difference${l.balance_difference !== null && l.balance_difference !== "0" ? " off" : ""}`)}${money(l.generect_spent, "generect_spent")}${money(l.difference, `difference${l.difference !== null && l.difference !== "0" ? " off" : ""}`)}</tr>`,
  );

  const totals = types.map((t) => {
    const ls = s.lines.filter((l) => l.balance_type === t);
    // A total over a month the ledger does not know is unknown too: n/a, not a partial sum.
    const sum = (k: keyof StatementLine) => (ls.every((l) => l[k] !== null) ? sumDecimals(ls.map((l) => l[k] as string)) : null);
    const spent = sum("generect_spent");
    return `<tr class="total" data-type="${esc(t)}"><td>${esc(t)}</td>${money(sum("charges"), "charges")}${money(sum("top_ups"), "top_ups")}${money(sum("refunds"), "refunds")}${money(sum("reversed"), "reversed")}${money(spent, "generect_spent")}</tr>`;
  });

  return `<!doctype html>
<html lang="${esc(locale)}"><head><meta charset="utf-8">
<title>Credit statement ${esc(s.account)} ${s.from} to ${s.to}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;color:#111;margin:24px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:24px 0 8px;break-after:avoid}
table{border-collapse:collapse;width:100%}th,td{padding:2px 6px;border-bottom:1px solid #e5e7eb;text-align:left}
td.num,td.na{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.na{color:#9ca3af}
td.off{background:#fee2e2;font-weight:600}tr.partial td:first-child{color:#b45309}
thead th{background:#f3f4f6;text-align:right}thead th:nth-child(-n+2){text-align:left}
.notice{background:#fef3c7;border-left:4px solid #f59e0b;padding:6px 10px;margin:6px 0}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
figure{margin:0 0 12px;break-inside:avoid}svg{max-width:100%;height:auto}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}
.running{font-size:11px;color:#555;border-bottom:1px solid #ccc;margin-bottom:8px}
@page{size:A4 landscape;margin:16mm 12mm 14mm}
@media print{body{margin:0}thead{display:table-header-group}tr{break-inside:avoid}section{break-before:page}section.first{break-before:auto}}
</style></head><body>
<div class="running">Credit statement: account ${esc(s.account)}, ${s.from} to ${s.to} (${esc(s.provenance.timezone)}), generated ${esc(s.provenance.generated_at)}</div>
<section class="first">
<h1>Credit statement: account ${esc(s.account)}</h1>
<p>Months ${s.from} to ${s.to} in ${esc(s.provenance.timezone)}. Money in credits, exact to the last digit Generect sent. Opening + charges + top-ups + refunds + reversed + pending = closing; a non-zero <em>balance difference</em> says by how much the ledger's balances do not add up. <em>Difference</em> is Generect's figure minus the ledger's charges.</p>
${s.notices.map((n) => `<p class="notice">${esc(n)}</p>`).join("\n")}
<h2>Summary per month and balance type</h2>
<table id="summary"><thead><tr><th>month</th><th>balance type</th><th>opening</th><th>charges</th><th>top-ups</th><th>refunds</th><th>reversed</th><th>pending</th><th>closing</th><th>balance difference</th><th>Generect spent</th><th>difference</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
${s.lines.some((l) => !l.complete) ? "<p>* month not yet complete in the ledger (after the watermark).</p>" : ""}
<h2>Totals over the statement</h2>
<table id="totals"><thead><tr><th>balance type</th><th></th><th>charges</th><th>top-ups</th><th>refunds</th><th>reversed</th><th>Generect spent</th></tr></thead>
<tbody>${totals.map((t) => t.replace("</td>", "</td><td></td>")).join("\n")}</tbody></table>
</section>
<section id="charts">
<h2>Charts</h2>
${legend(types, color)}
<figure id="balance-chart"><figcaption>Closing balance per month and balance type</figcaption>${balanceChart(s, months, types, color)}</figure>
<figure id="spend-chart"><figcaption>Monthly spend (settled charges) stacked by balance type</figcaption>${spendChart(s, months, types, color)}</figure>
<figure id="calendar"><figcaption>Reconciliation per day: <span style="color:${DAY_COLORS.agrees}">agrees</span>, <span style="color:${DAY_COLORS.differs}">differs</span>, <span style="color:${DAY_COLORS.incomplete}">incomplete</span>, <span style="color:#6b7280">not captured</span></figcaption>${calendar(s)}</figure>
</section>
<section id="proofs-section">
<h2>Proofs as of this statement</h2>
<dl id="proofs">
${proof("Balance-chain breaks", s.proofs.balance_chain_breaks, String)}
${proof("Last users/me checkpoint", s.proofs.users_me_checkpoint, (v) => `${v.at}: ${v.agrees ? "agrees" : "differs"}`)}
${proof("Last audit sweep", s.proofs.audit_sweep, (v) => `${v.at}: ${v.result}`)}
${proof("Quarantined rows (unresolved)", s.proofs.quarantined_rows, String)}
${proof("Days not yet complete", s.proofs.days_not_complete, (v) => (v.count ? `${v.count}, from ${v.first}` : "none"))}
${proof("Captured days that differ", s.proofs.days_differing, String)}
</dl>
<h2>Provenance</h2>
<dl id="provenance">
<dt>Generated at</dt><dd>${esc(s.provenance.generated_at)}</dd>
<dt>By</dt><dd>generect-sync ${esc(s.provenance.version)}</dd>
<dt>Runs</dt><dd>${s.provenance.first_run_id === null ? "none" : `${esc(s.provenance.first_run_id)} to ${esc(s.provenance.last_run_id ?? "")}`}</dd>
<dt>Watermark</dt><dd>${esc(s.provenance.watermark ?? "never synced")}</dd>
</dl>
</section>
</body></html>
`;
}

function proof<T>(label: string, p: Proof<T>, show: (v: T) => string): string {
  return `<dt>${esc(label)}</dt><dd class="${p.available ? "proof" : "proof na"}">${esc(p.available ? show(p.value) : p.reason)}</dd>`;
}

function legend(types: string[], color: (t: string) => string): string {
  return `<p class="legend">${types.map((t) => `<span><i style="background:${color(t)}"></i>${esc(t)}</span>`).join("")}</p>`;
}

const W = 900,
  H = 260,
  PAD = 48;

function scale(min: number, max: number, lo: number, hi: number) {
  const span = max - min || 1;
  return (v: number) => hi - ((v - min) / span) * (hi - lo);
}

function balanceChart(s: Statement, months: string[], types: string[], color: (t: string) => string): string {
  const points = s.lines.filter((l) => l.closing_balance !== null);
  const values = points.map((l) => Number(l.closing_balance));
  const y = scale(Math.min(0, ...values), Math.max(0, ...values), PAD / 2, H - PAD / 2);
  const x = (m: string) => PAD + (months.indexOf(m) + 0.5) * ((W - PAD) / Math.max(1, months.length));
  const lines = types.map((t) => {
    const own = points.filter((l) => l.balance_type === t);
    const path = own.map((l) => `${x(l.month).toFixed(1)},${y(Number(l.closing_balance)).toFixed(1)}`).join(" ");
    const dots = own.map(
      (l) =>
        `<circle class="point" data-type="${esc(t)}" data-month="${l.month}" data-value="${esc(l.closing_balance!)}" cx="${x(l.month).toFixed(1)}" cy="${y(Number(l.closing_balance)).toFixed(1)}" r="2.5" fill="${color(t)}"><title>${esc(t)} ${l.month}: ${esc(l.closing_balance!)}</title></circle>`,
    );
    return `<polyline class="series" data-type="${esc(t)}" fill="none" stroke="${color(t)}" stroke-width="1.5" points="${path}"/>${dots.join("")}`;
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="balance over time">${axes(y, values, months, x)}${lines.join("")}</svg>`;
}

function spendChart(s: Statement, months: string[], types: string[], color: (t: string) => string): string {
  // Spend is shown positive: -charges.
  const perMonth = months.map((m) => s.lines.filter((l) => l.month === m && l.charges !== null && l.charges !== "0"));
  const totals = perMonth.map((ls) => ls.reduce((acc, l) => acc - Number(l.charges), 0));
  const y = scale(0, Math.max(0, ...totals), PAD / 2, H - PAD / 2);
  const band = (W - PAD) / Math.max(1, months.length);
  const bars = months.map((m, i) => {
    let base = 0;
    const rects = types.flatMap((t) => {
      const l = perMonth[i]!.find((x) => x.balance_type === t);
      if (!l) return [];
      const v = -Number(l.charges!);
      const r = `<rect class="segment" data-type="${esc(t)}" data-value="${esc(l.charges!)}" x="${(PAD + i * band + band * 0.1).toFixed(1)}" width="${(band * 0.8).toFixed(1)}" y="${y(base + v).toFixed(1)}" height="${Math.max(0, y(base) - y(base + v)).toFixed(1)}" fill="${color(t)}"><title>${esc(t)} ${m}: ${esc(l.charges!)}</title></rect>`;
      base += v;
      return [r];
    });
    return `<g class="bar" data-month="${m}">${rects.join("")}</g>`;
  });
  const x = (m: string) => PAD + (months.indexOf(m) + 0.5) * band;
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="monthly spend">${axes(y, [0, ...totals], months, x)}${bars.join("")}</svg>`;
}

function axes(y: (v: number) => number, values: number[], months: string[], x: (m: string) => number): string {
  const lo = Math.min(0, ...values),
    hi = Math.max(0, ...values);
  const ticks = [lo, (lo + hi) / 2, hi].map(
    (v) =>
      `<text x="${PAD - 4}" y="${y(v).toFixed(1)}" text-anchor="end" font-size="9" dominant-baseline="middle">${Math.round(v).toLocaleString("en-US")}</text><line x1="${PAD}" x2="${W}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`,
  );
  const every = Math.max(1, Math.ceil(months.length / 18));
  const labels = months
    .filter((_, i) => i % every === 0)
    .map((m) => `<text x="${x(m).toFixed(1)}" y="${H - 8}" text-anchor="middle" font-size="9">${m}</text>`);
  return ticks.join("") + labels.join("");
}

function calendar(s: Statement): string {
  const months = [...new Set(s.days.map((d) => d.day.slice(0, 7)))];
  const cell = 11,
    left = 56;
  const rects = s.days.map((d) => {
    const row = months.indexOf(d.day.slice(0, 7));
    const col = Number(d.day.slice(8, 10)) - 1;
    const detail = d.api_spent === null ? "" : `: Generect ${d.api_spent}, ledger ${d.ledger_spent}`;
    return `<rect class="day day-${d.state}" data-day="${d.day}" data-state="${d.state}" x="${left + col * cell}" y="${row * cell}" width="${cell - 1}" height="${cell - 1}" fill="${DAY_COLORS[d.state]}"><title>${d.day} ${d.state.replace("_", " ")}${esc(detail)}</title></rect>`;
  });
  const labels = months.map((m, i) => `<text x="${left - 4}" y="${i * cell + 8}" text-anchor="end" font-size="8">${m}</text>`);
  // A fixed width: stretched to the page, the day squares would grow as large as the bars.
  return `<svg class="chart calendar" width="${(left + 31 * cell) * 1.6}" viewBox="0 0 ${left + 31 * cell} ${Math.max(1, months.length) * cell}" role="img" aria-label="reconciliation calendar">${labels.join("")}${rects.join("")}</svg>`;
}
