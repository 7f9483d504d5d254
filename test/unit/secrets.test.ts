// The one scrub function, and the table of Postgres failures retried as a lost connection: pure,
// tested without a server. The scenarios in test/faults hold the job to them end to end.
import { Writable } from "node:stream";
import { describe, expect, test } from "@jest/globals";
import { isConnectionLoss } from "../../src/db/errors.js";
import { DatabaseUnavailableError } from "../../src/errors.js";
import { createLogger, scrubbedExcerpt, scrubSecrets } from "../../src/log.js";
import { secretScrubber } from "../../src/secrets.js";

const token = 'Ab3"de\\fg/h+i%jk';
const escaped = (text: string) => JSON.stringify(text).slice(1, -1);

describe("scrubSecrets", () => {
  test.each([
    ["as is", `Token ${token} refused`],
    ["JSON-escaped", `{"detail":"Token ${escaped(token)} refused"}`],
    ["JSON-escaped twice", JSON.stringify({ msg: JSON.stringify({ detail: token }) })],
    ["URL-encoded", `GET /x?token=${encodeURIComponent(token)}&a=1`],
    ["URL-encoded, then escaped", JSON.stringify({ url: `/x?token=${encodeURIComponent(token)}` })],
  ])("removes the secret %s", (_form, text) => {
    const scrubbed = scrubSecrets(text, [token]);
    expect(scrubbed).toContain("[REDACTED]");
    expect(scrubbed).not.toMatch(/Ab3/);
  });

  test("leaves secrets shorter than 4 characters and absent ones alone", () => {
    expect(scrubSecrets("abc abc", ["abc", undefined])).toBe("abc abc");
  });

  test("secretScrubber (forms worked out once, a fleet logger's 200 tokens) scrubs exactly as scrubSecrets does", () => {
    const fleet = [token, ...Array.from({ length: 200 }, (_, i) => `tok_live_${i}_${"z".repeat(i % 7)}`)];
    const scrub = secretScrubber(fleet);
    for (const text of [
      `Token ${token} and tok_live_17_zzz, ${encodeURIComponent(token)} ${JSON.stringify(JSON.stringify(token))}`,
      "nothing secret here",
      `tok_live_199_zzzzzz${token}tok_live_3_zzz`,
    ]) {
      expect(scrub(text)).toBe(scrubSecrets(text, fleet));
      expect(scrub(text)).not.toMatch(/Ab3|tok_live_(17|199|3)_/);
    }
  });
});

describe("scrubbedExcerpt", () => {
  test("scrubs before cutting: a secret across the cut leaves no first characters", () => {
    const text = `${"x".repeat(110)}Token ${token} tail`;
    expect(text.slice(0, 120)).toContain('Ab3"'); // what a cut alone kept
    const excerpt = scrubbedExcerpt(text, 120, [token]);
    expect(excerpt).toBe(`${"x".repeat(110)}Token [RED`);
  });

  test("a text that ends inside the secret (4 characters or more of it) ends in [REDACTED]", () => {
    expect(scrubbedExcerpt(`said: ${token.slice(0, 7)}`, 120, [token])).toBe("said: [REDACTED]");
    expect(scrubbedExcerpt(`said: ${escaped(token).slice(0, 9)}`, 120, [token])).toBe("said: [REDACTED]");
    expect(scrubbedExcerpt("said: Ab3", 120, [token])).toBe("said: Ab3"); // 3 characters: not worth a redaction
  });

  test("short texts without secrets are unchanged", () => {
    expect(scrubbedExcerpt("Service temporarily unavailable", 120, [token])).toBe("Service temporarily unavailable");
  });
});

test("the logger scrubs a secret with quotes and backslashes from its JSON lines", () => {
  const lines: string[] = [];
  const destination = new Writable({
    write: (chunk, _enc, done) => {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ secrets: [token], pretty: false, destination });
  log.warn({ body: `{"detail":"${escaped(token)}"}` }, `refused ${token}`);
  expect(lines.join("")).not.toMatch(/Ab3/);
  expect(lines.join("").match(/\[REDACTED\]/g)).toHaveLength(2);
});

describe("isConnectionLoss", () => {
  test.each([
    ["57P01", true],
    ["57P02", true],
    ["57P03", true],
    ["53300", true],
    ["55000", true],
    ["08000", true],
    ["08001", true],
    ["08006", true],
    ["08P01", true],
    ["ECONNREFUSED", true],
    ["ECONNRESET", true],
    ["23505", false],
    ["42P01", false],
    ["40001", false],
    ["22P02", false],
    [undefined, false],
  ])("code %s: %s", (code, retried) => {
    expect(isConnectionLoss(Object.assign(new Error("x"), { code }))).toBe(retried);
  });

  test("a message of a dropped socket counts; a DB_UNAVAILABLE that quotes one does not (it is the verdict)", () => {
    expect(isConnectionLoss(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isConnectionLoss(new DatabaseUnavailableError("the database stayed unavailable (Connection terminated unexpectedly)"))).toBe(
      false,
    );
  });
});
