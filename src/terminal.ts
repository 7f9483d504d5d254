/**
 * The operator's terminal, shared by log lines and the progress bar. The bar owns the last line;
 * a log line is written above it: the bar is erased, the line written, the bar drawn again, all in
 * one write. Two writers on one TTY otherwise put `ETA 30s[15:13:28] INFO: window committed` on one
 * line (pino-pretty used to write from its own thread, between the bar's redraws).
 */
export interface Terminal {
  readonly isTTY: boolean;
  /** Writes a whole line (a trailing newline is added if missing) above the status line. */
  line(text: string): void;
  /** Draws (or redraws) the status line, cut to the terminal's width so it never wraps. */
  status(text: string): void;
  /** Leaves the status line as it is, on its own line; later lines go below it. */
  endStatus(): void;
}

const terminals = new WeakMap<NodeJS.WritableStream, Terminal>();

/** The one Terminal of `stream`: every writer of a stream must share it. */
export function terminalFor(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): Terminal {
  let terminal = terminals.get(stream);
  if (!terminal) {
    terminal = createTerminal(stream);
    terminals.set(stream, terminal);
  }
  return terminal;
}

function createTerminal(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): Terminal {
  let bar: string | undefined;
  return {
    isTTY: Boolean(stream.isTTY),
    line(text) {
      const body = text.endsWith("\n") ? text : `${text}\n`;
      stream.write(bar === undefined ? body : `\r\x1b[K${body}${bar}`);
    },
    status(text) {
      bar = stream.columns ? text.slice(0, stream.columns - 1) : text;
      stream.write(`\r${bar}\x1b[K`);
    },
    endStatus() {
      if (bar !== undefined) stream.write("\n");
      bar = undefined;
    },
  };
}
