/**
 * Text columns padded to their widest cell, so a table stays aligned whatever the width of its
 * values (a run number gaining a digit, a count in the millions). Numbers are right-aligned.
 */
export function formatTable(header: string[], rows: string[][], options: { numeric?: boolean[]; indent?: string } = {}): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    (options.indent ?? "") +
    cells
      .map((cell, i) =>
        i === cells.length - 1 && !options.numeric?.[i] ? cell : options.numeric?.[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Name-and-description lines for --help, the descriptions starting in one column. */
export function formatPairs(pairs: readonly (readonly [string, string])[], indent = "  "): string {
  const width = Math.max(...pairs.map(([name]) => name.length));
  return pairs.map(([name, text]) => `${indent}${name.padEnd(width)}  ${text}`).join("\n");
}
