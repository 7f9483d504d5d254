import { describe, expect, test } from "@jest/globals";
import { withConnectionRetry } from "../../src/db/retry.js";
import { InterruptedError } from "../../src/errors.js";

describe("withConnectionRetry under a stop", () => {
  test("an attempt that succeeded while the signal aborted gives its result: what it did stays done", async () => {
    const stop = new AbortController();
    const result = await withConnectionRetry(
      async () => {
        stop.abort(new InterruptedError("SIGTERM"));
        return "lock taken";
      },
      { signal: stop.signal },
    );
    expect(result).toBe("lock taken");
  });

  test("an attempt that fails while the signal aborted rejects with the abort's reason", async () => {
    const stop = new AbortController();
    const reason = new InterruptedError("SIGTERM");
    const refused = Object.assign(new Error("the database system is starting up"), { code: "57P03" });
    await expect(
      withConnectionRetry(
        async () => {
          stop.abort(reason);
          throw refused;
        },
        { signal: stop.signal },
      ),
    ).rejects.toBe(reason);
  });

  test("a signal aborted before the first attempt runs nothing", async () => {
    const stop = new AbortController();
    stop.abort(new InterruptedError("SIGTERM"));
    let attempts = 0;
    await expect(withConnectionRetry(async () => ++attempts, { signal: stop.signal })).rejects.toBeInstanceOf(InterruptedError);
    expect(attempts).toBe(0);
  });
});
