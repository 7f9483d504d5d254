import type { WindowStats } from "../sync/window.js";
import { terminalFor } from "../terminal.js";
import type { Micros } from "../time.js";

/**
 * A one-line progress display for a TTY: windows, pages, rows, rate and ETA (by span of created_at
 * covered, which is what a backfill walks; the number of windows is not known ahead, their spans
 * follow the ledger's density). Off a TTY the JSON logs say the same per window. It draws on the
 * stream's shared Terminal, so log lines appear above the bar, never inside it.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr) {
  if (!stream.isTTY) return undefined;
  const terminal = terminalFor(stream);
  const started = Date.now();
  let drawing = false,
    done = 0,
    pages = 0,
    rows = 0,
    from = 0,
    until = 0,
    covered = 0,
    expected: number | undefined;
  let last = 0;
  const render = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
    const spanned = until > from ? covered / (until - from) : 1;
    // A first run's whole history may be one window: the rows the API counted tell more than its span.
    const fraction = expected ? Math.min(1, Math.max(spanned, rows / expected)) : spanned;
    const eta = fraction > 0 && fraction < 1 ? `${Math.round((seconds / fraction) * (1 - fraction))}s` : "-";
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    terminal.status(`${bar} ${Math.round(fraction * 100)}% windows ${done} pages ${pages} rows ${rows} ${rate}/s ETA ${eta}`);
  };
  return {
    planned(start: Micros, end: Micros, rows?: number) {
      drawing = true;
      from = start;
      until = end;
      expected = rows;
      render(true);
    },
    page(n: number, pageCount = 1) {
      pages += pageCount;
      rows += n;
      render();
    },
    window(stats: WindowStats) {
      done += 1;
      covered = stats.window.to - from;
      render(true);
    },
    finish() {
      if (drawing) terminal.endStatus();
    },
  };
}
