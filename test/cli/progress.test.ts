import { describe, expect, test } from "@jest/globals";
import { createProgress } from "../../src/cli/progress.js";
import { asMicros } from "../../src/time.js";

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (c: string) => chunks.push(c) } as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
}

describe("progress on a TTY", () => {
  test("draws windows, pages, rows, rate and ETA", () => {
    const { stream, text } = fakeStream(true);
    const progress = createProgress(stream)!;
    progress.planned(asMicros(0), asMicros(4_000));
    progress.page(100);
    progress.window({ window: { from: 0, to: 1_000 } } as never);
    progress.finish();
    expect(text()).toMatch(/25% windows 1 pages 1 rows 100 \d+\/s ETA \d+s/);
    expect(text().endsWith("\n")).toBe(true);
  });

  test("is off when the stream is not a TTY (JSON logs say it instead)", () => {
    expect(createProgress(fakeStream(false).stream)).toBeUndefined();
  });
});
