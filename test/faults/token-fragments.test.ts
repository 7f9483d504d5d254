// Scenario 13: no fragment of the token. A token holding `"`, `\`, `/`, `+` and `%` (all legal in a
// header) takes other forms in text: JSON-escaped in a body or a log line, URL-encoded in a query.
// A broken proxy echoes it back in its error bodies, placed so the client's excerpt (120
// characters of a non-JSON body, 80 in a body that fails to parse) cuts through it, or cut short
// inside it. The job is the real CLI: no form of the token, whole or its first four characters or
// more, may appear in its output or in sync_runs.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { InterceptResponse, SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator } from "../helpers/sync.js";
import { cli, guardCliOutput, registerSecret } from "./support.js";

guardCliOutput();

const token = 'Vq8w"Zt\\Lp3r/Km+Yx%9Ns';
registerSecret(token);

const escaped = (text: string) => JSON.stringify(text).slice(1, -1);
/** Every form the token can take in text, each cut to its first 4 characters and more. */
const fragments = [
  ...new Set([token, escaped(token), escaped(escaped(token)), encodeURIComponent(token), escaped(encodeURIComponent(token))]),
].flatMap((form) => Array.from({ length: form.length - 3 }, (_, i) => form.slice(0, i + 4)));

function leaked(text: string): string[] {
  return fragments.filter((fragment) => text.includes(fragment));
}

const pad = (length: number) => "x".repeat(length);
const cases: { name: string; respond: () => InterceptResponse }[] = [
  {
    name: "a text body with the token across the 120-character excerpt's cut",
    respond: () => ({
      status: 502,
      body: `${pad(114 - "Token ".length)}Token ${token} rejected upstream`,
      headers: { "Content-Type": "text/plain" },
    }),
  },
  {
    name: "a JSON body whose detail quotes the token (escaped in the body, whole in the detail)",
    respond: () => ({ status: 500, body: JSON.stringify({ detail: `upstream refused Authorization: Token ${token}` }) }),
  },
  {
    name: "JSON cut short, the escaped token across the excerpt's cut",
    respond: () => ({ status: 503, body: `{"detail": "${pad(90)} Token ${escaped(token)} was refused`.slice(0, 140) }),
  },
  {
    name: "a 200 that is not JSON, the escaped token across the 80-character preview",
    respond: () => ({ status: 200, body: `<html>${pad(58)}Token ${escaped(token)}</html>`, headers: { "Content-Type": "text/html" } }),
  },
  {
    name: "the URL-encoded token across the cut",
    respond: () => ({ status: 502, body: `${pad(110)}token=${encodeURIComponent(token)}&x=1`, headers: { "Content-Type": "text/plain" } }),
  },
  {
    name: "a body that ends inside the token",
    respond: () => ({ status: 502, body: `upstream said: Token ${token.slice(0, 9)}`, headers: { "Content-Type": "text/plain" } }),
  },
];

describe("no fragment of the token", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("faults-fragments");
    sim = await seededSimulator(1401, 300, 10, { token });
    env = {
      DATABASE_URL: db.url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: token,
      SYNC_ACCOUNT: "acct",
      GENERECT_RETRIES: "1",
      LOG_LEVEL: "debug",
    };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("the check is not blind: each body, as sent, holds a fragment", () => {
    for (const { respond } of cases) expect(leaked(respond().body!).length).toBeGreaterThan(0);
  });

  test.each(cases)(
    "$name: the run fails, and neither its output nor sync_runs holds a fragment",
    async ({ respond }) => {
      sim.faults.intercept = () => respond();
      const result = await cli(["run"], env).done;
      sim.faults.intercept = undefined;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/generect-sync run: error \[API_/);
      expect(leaked(result.stdout + result.stderr)).toEqual([]);
      const [run] = await query<{ error_code: string; error_message: string; finished_at: Date | null }>(
        db.url,
        "SELECT error_code, error_message, finished_at FROM sync_runs ORDER BY id DESC LIMIT 1",
      );
      expect(run!.finished_at).not.toBeNull();
      expect(run!.error_code).toMatch(/^API_(UNAVAILABLE|RESPONSE_INVALID)$/);
      expect(leaked(run!.error_message)).toEqual([]);
    },
    30_000,
  );

  test("the token itself works: a clean run with it syncs the ledger", async () => {
    const result = await cli(["run"], env).done;
    expect(result.code).toBe(0);
    expect(leaked(result.stdout + result.stderr)).toEqual([]);
    await expectDatabaseEqualsLedger(db.url, sim);
  }, 30_000);
});
