// A small hand-written SVG line chart: rows/s against concurrency, one line per series, an optional
// horizontal reference line (the DB ceiling). No chart library.

export interface ChartSeries {
  name: string;
  color: string;
  /** One value per x; null leaves a gap. */
  values: (number | null)[];
  dashed?: boolean;
}

export interface ChartInput {
  title: string;
  xLabel: string;
  yLabel: string;
  xs: number[];
  series: ChartSeries[];
  reference?: { name: string; value: number; color: string };
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** 1, 2, 5 × 10^k steps giving about `count` ticks up to at least `max`. */
function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) ticks.push(t);
  return ticks;
}

const compact = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(+n.toFixed(1)));

export function lineChart(input: ChartInput): string {
  const width = 640;
  const height = 400;
  const m = { top: 48, right: 24, bottom: 72, left: 72 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  // The scale follows the measured (solid) series; a dashed bound or the reference line far above
  // them is clipped at the top (and the reference, if off scale, only named in the legend).
  const measured = input.series.filter((s) => !s.dashed).flatMap((s) => s.values.filter((v): v is number => v !== null));
  const all = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = Math.max(1, ...(measured.length ? measured : all)) * 1.25;
  const ticks = niceTicks(top);
  const yMax = ticks[ticks.length - 1]!;
  const referenceOnScale = input.reference !== undefined && input.reference.value <= yMax;
  const pad = 24; // keeps the first and last points off the axes
  const x = (i: number) => m.left + (input.xs.length === 1 ? plotW / 2 : pad + (i * (plotW - 2 * pad)) / (input.xs.length - 1));
  const y = (v: number) => m.top + plotH - (v / yMax) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(input.title)}</text>`);
  for (const t of ticks) {
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y(t) + 4}" text-anchor="end" fill="#444">${compact(t)}</text>`);
  }
  input.xs.forEach((xv, i) => {
    parts.push(`<text x="${x(i)}" y="${m.top + plotH + 18}" text-anchor="middle" fill="#444">${xv}</text>`);
  });
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#888"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#888"/>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${m.top + plotH + 38}" text-anchor="middle">${escapeXml(input.xLabel)}</text>`);
  parts.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(input.yLabel)}</text>`);

  parts.push(`<clipPath id="plot"><rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}"/></clipPath>`);
  parts.push(`<g clip-path="url(#plot)">`);
  if (input.reference && referenceOnScale) {
    const ry = y(input.reference.value);
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${ry}" y2="${ry}" stroke="${input.reference.color}" stroke-width="1.5" stroke-dasharray="2 4"/>`,
    );
  }
  for (const s of input.series) {
    const points = s.values.map((v, i) => (v === null ? null : ([x(i), y(v)] as const))).filter((p) => p !== null);
    if (points.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ` stroke-dasharray="6 4"` : ""} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")}"/>`,
      );
    }
    for (const [px, py] of points) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${s.color}"/>`);
  }
  parts.push("</g>");

  // Legend, one row under the x axis label.
  const legend = [
    ...input.series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed })),
    ...(input.reference
      ? [
          {
            name: referenceOnScale ? input.reference.name : `${input.reference.name} ${compact(input.reference.value)} (off scale)`,
            color: input.reference.color,
            dashed: true,
          },
        ]
      : []),
  ];
  let lx = m.left;
  const ly = height - 14;
  for (const item of legend) {
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${item.color}" stroke-width="2"${item.dashed ? ` stroke-dasharray="4 3"` : ""}/>`,
    );
    parts.push(`<text x="${lx + 28}" y="${ly}">${escapeXml(item.name)}</text>`);
    lx += 40 + item.name.length * 6.5;
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
