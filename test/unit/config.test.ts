import { describe, expect, test } from "@jest/globals";
import { formatDuration, parseDuration } from "../../src/config/duration.js";
import { defaults, loadConfig } from "../../src/config/index.js";
import { ConfigError } from "../../src/errors.js";
import { parseTimestamp } from "../../src/time.js";
import { days, hours } from "../helpers/time.js";

describe("durations", () => {
  test.each([
    ["15m", 900_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["2w", 1_209_600_000],
    ["0s", 0],
  ])("%s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  test.each(["", "7", "7x", "-1h", "1.5h", "h", "7 d"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  test("formats back", () => {
    expect(formatDuration(86_400_000)).toBe("1d");
    expect(formatDuration(5_400_000)).toBe("90m");
  });
});

describe("configuration from the environment", () => {
  test("defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      apiUrl: "https://api.generect.com",
      account: "default",
      lookbackMs: defaults.lookbackMs,
      windowMs: defaults.windowMs,
      windowRows: 10_000,
      concurrency: 4,
    });
    expect(config.apiToken).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.workerHttpPort).toBeUndefined();
    expect(loadConfig({ WORKER_HTTP_PORT: "8080" }).workerHttpPort).toBe(8080);
  });

  test("values are parsed", () => {
    const config = loadConfig({
      GENERECT_API_TOKEN: "abc123",
      GENERECT_API_URL: "http://127.0.0.1:9/",
      DATABASE_URL: "postgres://u:p@h/db",
      SYNC_ACCOUNT: "acme-eu",
      SYNC_START: "2024-02-01",
      SYNC_LOOKBACK: "2h",
      SYNC_WINDOW: "1d",
      SYNC_CONCURRENCY: "8",
      SYNC_WINDOW_ROWS: "0",
    });
    expect(config).toMatchObject({
      apiToken: "abc123",
      apiUrl: "http://127.0.0.1:9",
      account: "acme-eu",
      lookbackMs: hours(2),
      windowMs: days(1),
      windowRows: 0,
      concurrency: 8,
    });
    expect(config.start).toBe(parseTimestamp("2024-02-01T00:00:00"));
  });

  test.each([
    [{ SYNC_WINDOW: "7x" }, /SYNC_WINDOW="7x" is not a duration/],
    [{ SYNC_WINDOW: "0h" }, /SYNC_WINDOW="0h" must be longer than zero/],
    [{ SYNC_WINDOW_ROWS: "25001" }, /SYNC_WINDOW_ROWS="25001" must be a whole number from 0 to 25000/],
    [{ SYNC_WINDOW_ROWS: "1e4" }, /SYNC_WINDOW_ROWS="1e4" must be a whole number/],
    [{ SYNC_LOOKBACK: "yesterday" }, /SYNC_LOOKBACK="yesterday" is not a duration/],
    [{ SYNC_CONCURRENCY: "0" }, /SYNC_CONCURRENCY="0" must be a whole number from 1 to 64/],
    [{ SYNC_CONCURRENCY: "2.5" }, /SYNC_CONCURRENCY/],
    [{ SYNC_START: "2024-13-01" }, /SYNC_START="2024-13-01" is not a date/],
    [{ SYNC_ACCOUNT: "a b" }, /SYNC_ACCOUNT="a b" must be/],
    [{ GENERECT_API_URL: "ftp://x" }, /GENERECT_API_URL must be an http\(s\) URL/],
    [{ GENERECT_API_URL: "not a url" }, /GENERECT_API_URL="not a url" is not a URL/],
    [{ DATABASE_URL: "mysql://u:pw@h/db" }, /DATABASE_URL must start with postgres/],
    [{ WORKER_HTTP_PORT: "65536" }, /WORKER_HTTP_PORT="65536" must be a whole number from 0 to 65535/],
    [{ WORKER_HTTP_PORT: "http" }, /WORKER_HTTP_PORT="http" must be a whole number/],
  ])("%j is refused with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("secrets are never echoed back", () => {
    const messages = [
      { DATABASE_URL: "postgres://user:hunter2secret@/db?%%%" },
      { DATABASE_URL: "mysql://user:hunter2secret@h/db" },
      { GENERECT_API_TOKEN: "Token hunter2secret" },
      { GENERECT_API_TOKEN: "hunter2secret\u00e9" },
    ].map((env) => {
      try {
        loadConfig(env);
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    });
    for (const message of messages) {
      expect(message).not.toBe("no error");
      expect(message).not.toContain("hunter2secret");
    }
  });
});

describe("variables an operator gets wrong (issue #18)", () => {
  test.each([
    ["utc", "UTC"],
    ["Etc/UTC", "UTC"],
    ["GMT", "UTC"],
    ["UTC", "UTC"],
    ["europe/berlin", "Europe/Berlin"],
    ["Asia/Kolkata", "Asia/Kolkata"],
    ["Asia/Calcutta", "Asia/Calcutta"],
  ])("SYNC_TIMEZONE=%s is the zone %s (it keys every snapshot row)", (given, canonical) => {
    expect(loadConfig({ SYNC_TIMEZONE: given }).timezone).toBe(canonical);
  });

  test("SYNC_ROLLUP_ZONES: IANA names, each as SYNC_TIMEZONE takes it, once each", () => {
    expect(loadConfig({}).rollupZones).toEqual([]);
    expect(loadConfig({ SYNC_ROLLUP_ZONES: " Asia/Kathmandu, America/St_Johns,Asia/Kathmandu ,utc" }).rollupZones).toEqual([
      "Asia/Kathmandu",
      "America/St_Johns",
      "UTC",
    ]);
    expect(() => loadConfig({ SYNC_ROLLUP_ZONES: "Asia/Kathmandu,,UTC" })).toThrow(
      'SYNC_ROLLUP_ZONES="Asia/Kathmandu,,UTC" has an empty entry',
    );
    expect(() => loadConfig({ SYNC_ROLLUP_ZONES: "Asia/Kathmandu,+05:45" })).toThrow(
      'SYNC_ROLLUP_ZONES="+05:45" is not an IANA timezone name',
    );
    expect(() => loadConfig({ SYNC_ROLLUP_ZONES: "asia/kolkata" })).toThrow(
      'SYNC_ROLLUP_ZONES="asia/kolkata" is the zone Asia/Calcutta: write its name as the IANA database does (e.g. Asia/Kolkata), ledger_days() is called with it',
    );
  });

  test("an alias in a case nobody looked up is refused, naming the zone", () => {
    expect(() => loadConfig({ SYNC_TIMEZONE: "asia/kolkata" })).toThrow(
      'SYNC_TIMEZONE="asia/kolkata" is the zone Asia/Calcutta: write its name as the IANA database does',
    );
  });

  test("SYNC_START in the future is refused; today's start is not", () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(() => loadConfig({ SYNC_START: tomorrow })).toThrow(new RegExp(`SYNC_START="${tomorrow}" is in the future`));
    expect(loadConfig({ SYNC_START: new Date().toISOString().slice(0, 10) }).start).toBeDefined();
    // Past the instants a double keeps to the microsecond (2255), still a future date, not a bad one.
    expect(() => loadConfig({ SYNC_START: "2999-01-01" })).toThrow(/SYNC_START="2999-01-01" is in the future/);
    expect(() => loadConfig({ SYNC_START: "2999-13-01" })).toThrow(/SYNC_START="2999-13-01" is not a date/);
    expect(() => loadConfig({ SYNC_START: "0024-01-01" })).toThrow(/SYNC_START="0024-01-01" is not a date/);
  });

  test("LOG_LEVEL must be a pino level", () => {
    expect(loadConfig({ LOG_LEVEL: "debug" }).logLevel).toBe("debug");
    expect(loadConfig({}).logLevel).toBe("info");
    expect(() => loadConfig({ LOG_LEVEL: "verbose" })).toThrow(
      'LOG_LEVEL="verbose" is not a log level: use one of fatal, error, warn, info, debug, trace, silent',
    );
  });
});

describe("SYNC_ACCOUNTS_FILE read against the environment", () => {
  /** `body` with a scratch accounts.yaml (written by `write`), removed afterwards. */
  async function withAccountsFile(
    body: (
      file: string,
      write: (text: string) => Promise<void>,
      load: typeof import("../../src/config/accounts.js").loadAccounts,
    ) => Promise<void>,
  ): Promise<void> {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const { loadAccounts } = await import("../../src/config/accounts.js");
    const dir = await mkdtemp(path.join(os.tmpdir(), "gs-accounts-"));
    const file = path.join(dir, "accounts.yaml");
    try {
      await body(file, (text) => writeFile(file, text), loadAccounts);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test("the environment is read once for all the entries (process.env is read variable by variable), each entry still gets its own", async () => {
    await withAccountsFile(async (file, write, loadAccounts) => {
      const entries = Array.from({ length: 20 }, (_, i) => `  - name: acct-${i}\n    token_env: ACCT_${i}_TOKEN\n`).join("");
      await write(`accounts:\n${entries}  - name: late\n    token_env: UNSET_TOKEN\n    timezone: Europe/Berlin\n`);
      const values: Record<string, string> = { DATABASE_URL: "postgres://u@h/db", SYNC_TIMEZONE: "Asia/Kolkata" };
      for (let i = 0; i < 20; i++) values[`ACCT_${i}_TOKEN`] = `key_${i}_${"k".repeat(24)}`;
      const reads = new Map<string, number>();
      const env = new Proxy(values, {
        get(target, key) {
          if (typeof key === "string") reads.set(key, (reads.get(key) ?? 0) + 1);
          return Reflect.get(target, key);
        },
      });
      const accounts = loadAccounts(file, env);
      expect(accounts.map((a) => a.name)).toEqual([...Array.from({ length: 20 }, (_, i) => `acct-${i}`), "late"]);
      expect(accounts.map((a) => a.config.apiToken)).toEqual([
        ...Array.from({ length: 20 }, (_, i) => `key_${i}_${"k".repeat(24)}`),
        undefined,
      ]);
      expect(accounts.at(-1)!.tokenError).toEqual({ code: "TOKEN_MISSING", message: expect.stringContaining("UNSET_TOKEN is not set") });
      expect(accounts[0]!.config.timezone).toBe("Asia/Kolkata");
      expect(accounts.at(-1)!.config.timezone).toBe("Europe/Berlin");
      // Copied once, then each token variable read once more for its entry: never once an entry.
      expect(reads.get("DATABASE_URL")).toBe(1);
      expect(reads.get("SYNC_TIMEZONE")).toBe(1);
    });
  });

  test("accounts given one key for one API fail alone (TOKEN_SHARED), naming the variables, never the key", async () => {
    await withAccountsFile(async (file, write, loadAccounts) => {
      await write(
        "accounts:\n" +
          "  - name: acme\n    token_env: ACME_TOKEN\n" +
          "  - name: acme-copy\n    token_env: ACME_TOKEN\n" + // the same variable pasted twice
          "  - name: globex\n    token_env: GLOBEX_TOKEN\n" +
          "  - name: globex-eu\n    token_env: GLOBEX_EU_TOKEN\n" + // another variable, the same value
          "  - name: initech\n    token_env: INITECH_TOKEN\n" +
          "  - name: initech-staging\n    token_env: INITECH_TOKEN\n    api_url: https://staging.example.test\n" +
          "  - name: hooli\n    token_env: HOOLI_TOKEN\n" +
          "  - name: hooli-2\n    token_env: HOOLI_TOKEN\n",
      );
      const key = (who: string) => `key_${who}_${"k".repeat(24)}`;
      const env = {
        DATABASE_URL: "postgres://u@h/db",
        ACME_TOKEN: key("acme"),
        GLOBEX_TOKEN: key("globex"),
        GLOBEX_EU_TOKEN: key("globex"),
        INITECH_TOKEN: key("initech"),
      };
      const accounts = loadAccounts(file, env);
      const problem = (name: string) => accounts.find((a) => a.name === name)!.tokenError;
      const shared = "the accounts would each mirror the same ledger. Give each account its own key";
      expect(problem("acme")).toEqual({
        code: "TOKEN_SHARED",
        message: `ACME_TOKEN holds the same API key as account "acme-copy" (the same variable): ${shared}`,
      });
      expect(problem("acme-copy")!.message).toBe(`ACME_TOKEN holds the same API key as account "acme" (the same variable): ${shared}`);
      expect(problem("globex")).toEqual({
        code: "TOKEN_SHARED",
        message: `GLOBEX_TOKEN holds the same API key as GLOBEX_EU_TOKEN (account "globex-eu"): ${shared}`,
      });
      expect(problem("globex-eu")!.message).toBe(`GLOBEX_EU_TOKEN holds the same API key as GLOBEX_TOKEN (account "globex"): ${shared}`);
      // One key for two APIs is two keys; an unset variable is missing, not shared.
      expect(problem("initech")).toBeUndefined();
      expect(problem("initech-staging")).toBeUndefined();
      expect(problem("hooli")!.code).toBe("TOKEN_MISSING");
      expect(problem("hooli-2")!.code).toBe("TOKEN_MISSING");
      // Accounts that fail keep their configuration; no message quotes a key.
      expect(accounts.find((a) => a.name === "acme")!.config.apiToken).toBe(key("acme"));
      const messages = accounts.map((a) => a.tokenError?.message ?? "").join("\n");
      for (const who of ["acme", "globex", "initech"]) expect(messages).not.toContain(key(who));
    });
  });

  test("every invalid entry is named in one error; an invalid environment is named once, not once an entry", async () => {
    const { ConfigError } = await import("../../src/errors.js");
    await withAccountsFile(async (file, write, loadAccounts) => {
      const thrown = (env: Record<string, string>) => {
        try {
          loadAccounts(file, env);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return (error as Error).message;
        }
        throw new Error("loadAccounts accepted the file");
      };
      await write(
        "accounts:\n" +
          "  - name: acme\n    token_env: ACME_TOKEN\n" +
          "  - name: acme\n    token_env: OTHER_TOKEN\n" +
          "  - name: globex\n    token_env: GLOBEX_TOKEN\n    timezone: Mars/Olympus\n" +
          "  - name: initech\n    token_env: INITECH_TOKEN\n" +
          "  - name: umbrella\n    token_env: 'sk-live-1234'\n",
      );
      const env = { DATABASE_URL: "postgres://u@h/db" };
      const message = thrown(env);
      expect(message).not.toContain("sk-live-1234"); // what was written where a variable's name belongs may be a key
      const lines = message.split("\n");
      expect(lines[0]).toBe(`SYNC_ACCOUNTS_FILE ${file}: 3 of 5 entries are invalid:`);
      expect(lines.slice(1)).toEqual([
        '  accounts[1] ("acme"), field name: also the name of accounts[0]',
        expect.stringMatching(/^ {2}accounts\[2\] \("globex"\), field timezone: SYNC_TIMEZONE/),
        expect.stringMatching(/^ {2}accounts\[4\] \("umbrella"\), field token_env: must name an environment variable/),
      ]);

      await write("accounts:\n  - name: acme\n    token_env: ACME_TOKEN\n  - name: acme\n    token_env: OTHER_TOKEN\n");
      expect(thrown(env)).toBe(`SYNC_ACCOUNTS_FILE ${file}: accounts[1] ("acme"), field name: also the name of accounts[0]`);

      // Not the entries' fault: the variable every entry inherits.
      await write("accounts:\n  - name: acme\n    token_env: ACME_TOKEN\n  - name: globex\n    token_env: GLOBEX_TOKEN\n");
      const environment = thrown({ ...env, SYNC_LOOKBACK: "banana" });
      expect(environment).toMatch(/^SYNC_LOOKBACK/);
      expect(environment).not.toContain("\n");
    });
  });
});
