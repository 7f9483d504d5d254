// The CLI at a terminal: tmux gives it a real TTY, and the test reads the screen a person would.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { runCliInTty } from "../helpers/cli.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, testToken } from "../helpers/sync.js";

/** The progress bar's whole line, as progress.ts draws it; anything else on that line is a collision. */
const barLine = /^[█░]{24} \d+% windows \d+ pages \d+ rows \d+ \d+\/s ETA \S+$/;

describe("run on a TTY", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("tty");
    // Slow pages and small windows: many bar redraws and many "window committed" lines, interleaved in time.
    sim = await seededSimulator(4, 1_500, 60, { faults: { latencyMs: 15 } });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("log lines are written above the progress bar, never on its line", async () => {
    const env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_WINDOW: "2d",
      SYNC_WINDOW_ROWS: "100",
    };
    const { code, screen } = await runCliInTty(["run"], env);
    expect(code).toBe(0);
    const lines = screen.split("\n").map((line) => line.trimEnd());
    const committed = lines.filter((line) => /INFO.*window committed/.test(line));
    expect(committed.length).toBeGreaterThanOrEqual(10);
    // Every line that shows the bar is the bar alone; exactly one is left: the final state, above the summary.
    const withBar = lines.filter((line) => /[█░]/.test(line));
    for (const line of withBar) expect(line).toMatch(barLine);
    expect(withBar).toHaveLength(1);
    expect(withBar[0]).toMatch(/^█{24} 100% windows \d+ pages \d+ rows 1500 /);
    const summary = lines.findIndex((line) => /^run #\d+ succeeded: .* 1500 rows seen \(1500 inserted/.test(line));
    expect(summary).toBeGreaterThan(lines.indexOf(withBar[0]!));
    expect(lines.indexOf(withBar[0]!)).toBeGreaterThan(lines.lastIndexOf(committed.at(-1)!));
    expect(screen).not.toContain(testToken);
    await expectDatabaseEqualsLedger(db.url, sim);
  }, 120_000);
});
