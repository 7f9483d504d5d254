import { CSV_COLUMNS, type Statement } from "./model.js";

/** One row per month x balance type; an unknown figure is an empty cell, never 0. */
export function renderCsv(statement: Statement): string {
  const cell = (v: string | boolean | null) =>
    v === null ? "" : typeof v === "boolean" ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  const rows = statement.lines.map((line) => CSV_COLUMNS.map((c) => cell(line[c])).join(","));
  return `${[CSV_COLUMNS.join(","), ...rows].join("\n")}\n`;
}

export function renderJson(statement: Statement): string {
  return `${JSON.stringify(statement, null, 2)}\n`;
}
