// COPY ... FROM STDIN with node-postgres alone. pg has no COPY API of its own (pg-copy-streams adds
// one, and is not a dependency), but client.query() accepts any "submittable": this is pg's own Query
// with the one hook it leaves unimplemented, handleCopyInResponse, feeding CopyData messages from an
// async source with backpressure. Errors reported by the server reject the promise as usual.
import pg from "pg";

/** The part of pg's internal Connection this uses (stable since pg 8.0). */
interface PgConnection {
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

class CopyFromStdin extends pg.Query {
  private failed = false;

  constructor(
    text: string,
    private readonly source: AsyncIterable<Buffer | string>,
    callback: (error: Error | null, result?: pg.QueryResult) => void,
  ) {
    super(text);
    (this as unknown as { callback: typeof callback }).callback = (error, result) => {
      if (error) this.failed = true;
      callback(error, result);
    };
  }

  /** Called by pg when the server answers CopyInResponse. */
  handleCopyInResponse(connection: PgConnection): void {
    void this.pump(connection);
  }

  private async pump(connection: PgConnection): Promise<void> {
    try {
      for await (const chunk of this.source) {
        if (this.failed) return;
        connection.sendCopyFromChunk(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
        if (connection.stream.writableNeedDrain) {
          await new Promise<void>((resolve) => connection.stream.once("drain", resolve));
        }
      }
      connection.endCopyFrom();
    } catch (error) {
      connection.sendCopyFail(`the COPY source failed: ${(error as Error).message}`);
    }
  }
}

/** Runs `COPY ... FROM STDIN` (text format unless the statement says otherwise); resolves with the row count. */
export function copyFrom(client: pg.ClientBase, copySql: string, source: AsyncIterable<Buffer | string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const query = new CopyFromStdin(copySql, source, (error, result) => (error ? reject(error) : resolve(result?.rowCount ?? 0)));
    client.query(query);
  });
}

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
    : value;
}
