// What an operator sees when something is wrong: the CLI run as a user runs it, its exit code and
// its message, which must name what is wrong and where, and never a password.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { localDate } from "../../src/snapshots/days.js";
import { runCli } from "../helpers/cli.js";
import { adminUrl, createMigratedDatabase, createTestDatabase, query, type TestDatabase } from "../helpers/database.js";
import { dailyFromDatabase, dailyFromSimulator } from "../helpers/snapshots.js";
import { seededSimulator, testToken } from "../helpers/sync.js";

/** A URL with a password, pointing at the test server but at another database. */
function withPassword(url: string, password: string, database?: string): string {
  const u = new URL(url);
  u.password = password;
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("usage and configuration errors: exit 2, a message naming what and where, nothing touched", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createMigratedDatabase("cli-errors");
    sim = await seededSimulator(12, 400, 30);
    env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test.each([
    [
      "LOG_LEVEL=verbose",
      ["run"],
      { LOG_LEVEL: "verbose" },
      /LOG_LEVEL="verbose" is not a log level: use one of fatal, error, warn, info, debug, trace, silent/,
    ],
    [
      "SYNC_START in the future",
      ["run"],
      { SYNC_START: "2999-01-01" },
      /SYNC_START="2999-01-01" is in the future \(now is \d{4}-\d\d-\d\dT[\d:]+ UTC\)/,
    ],
    ["run now", ["run", "now"], {}, /run: unexpected argument "now": run takes options only/],
    ["status --runs abc", ["status", "--runs", "abc"], {}, /status: --runs "abc" must be a whole number from 1 to 1000/],
    ["status --runs 0", ["status", "--runs", "0"], {}, /--runs "0" must be a whole number/],
    ["reconcile --tolerance -1", ["reconcile", "--tolerance", "-1"], {}, /reconcile: --tolerance "-1" must be a non-negative decimal/],
    [
      "reconcile --from after --to",
      ["reconcile", "--from", "2025-03-02", "--to", "2025-03-01"],
      {},
      /reconcile: --from 2025-03-02 is after --to 2025-03-01/,
    ],
    ["grant-reader with two roles", ["grant-reader", "a", "b"], {}, /give exactly one ROLE name/],
  ] as const)("%s", async (_label, args, extra, message) => {
    const before = sim.stats.requests;
    const result = await runCli([...args], { ...env, ...extra });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/pino|at .*\.js:\d+|Invalid `prisma/);
    expect(result.code).toBe(2);
    expect(sim.stats.requests).toBe(before);
    expect(await query(db.url, "SELECT 1 FROM sync_runs")).toEqual([]);
  });

  test("a negative number is still a value of its option when given with =", async () => {
    const result = await runCli(["reconcile", "--tolerance=-0.5"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tolerance "-0.5" must be a non-negative decimal');
  });
});

describe("database errors name DATABASE_URL (password redacted), host and port", () => {
  test("unreachable: exit 1 (a failure, not a usage error), host and port named", async () => {
    const port = await closedPort();
    const result = await runCli(["status"], { DATABASE_URL: `postgres://sync:pw-Secret-771@127.0.0.1:${port}/ledger` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error [DB_UNREACHABLE]: cannot connect to DATABASE_URL=postgres://sync:***@127.0.0.1:${port}/ledger (host 127.0.0.1, port ${port}): `,
    );
    expect(result.stderr).toContain("ECONNREFUSED");
    expect(result.stdout + result.stderr).not.toContain("pw-Secret-771");
  });

  test("a database that does not exist: exit 2, what to run", async () => {
    const admin = new URL(adminUrl());
    // The server's own password where it checks one (embedded Postgres), a made-up one where it trusts.
    const password = admin.password ? decodeURIComponent(admin.password) : "pw-Secret-772";
    const url = withPassword(admin.toString(), password, "gs_no_such_database");
    for (const command of ["status", "reconcile", "migrate"]) {
      const result = await runCli([command], { DATABASE_URL: url });
      expect(result.stderr).toContain(`error [DB_MISSING]: the database "gs_no_such_database" does not exist on DATABASE_URL=`);
      expect(result.stderr).toContain(`(host ${admin.hostname}, port ${admin.port || "5432"}): create it`);
      expect(result.stderr).toContain("then run `generect-sync migrate`");
      expect(result.stdout + result.stderr).not.toContain(password);
      expect(result.code).toBe(2);
    }
  });

  test("a login the server refuses: exit 2, the user named, not the password", async () => {
    const url = new URL(adminUrl());
    url.username = "gs_no_such_role";
    url.password = "pw-Secret-773";
    const result = await runCli(["status"], { DATABASE_URL: url.toString() });
    expect(result.stderr).toContain(
      "error [DB_AUTH_FAILED]: the database refused the login of DATABASE_URL=postgres://gs_no_such_role:***@",
    );
    expect(result.stderr).toMatch(/"gs_no_such_role"/);
    expect(result.stdout + result.stderr).not.toContain("pw-Secret-773");
    expect(result.code).toBe(2);
  });

  test("a database without the schema: status and reconcile say to run migrate", async () => {
    const empty = await createTestDatabase("cli-unmigrated");
    try {
      for (const command of ["status", "reconcile"]) {
        const result = await runCli([command], { DATABASE_URL: empty.url });
        expect(result.stderr).toMatch(
          /error \[SCHEMA_NOT_MIGRATED\]: DATABASE_URL=\S+ \(host \S+, port \d+\) has no generect-sync tables .*: run `generect-sync migrate` first/,
        );
        expect(result.stderr).not.toContain("Invalid `prisma");
        expect(result.code).toBe(1);
      }
    } finally {
      await empty.drop();
    }
  });
});

describe("SYNC_TIMEZONE is canonicalised", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    db = await createMigratedDatabase("cli-timezone");
    sim = await seededSimulator(13, 600, 90);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("utc, Etc/UTC and GMT are the zone UTC: one series of snapshots, equal to Generect's, no duplicates", async () => {
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "acct" };
    const first = await runCli(["run"], { ...env, SYNC_TIMEZONE: "UTC" });
    expect(first.code).toBe(0);
    const rows = async () =>
      query<{ timezone: string; n: number }>(db.url, "SELECT timezone, count(*)::int AS n FROM spent_credit_snapshots GROUP BY 1");
    const after = await rows();
    expect(after.map((r) => r.timezone)).toEqual(["UTC"]);
    for (const zone of ["utc", "Etc/UTC", "GMT"]) {
      const again = await runCli(["snapshot"], { ...env, SYNC_TIMEZONE: zone });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(" 0 value(s) written");
      const status = JSON.parse((await runCli(["status", "--json"], { ...env, SYNC_TIMEZONE: zone })).stdout);
      expect(status.snapshots.timezone).toBe("UTC");
    }
    expect(await rows()).toEqual(after);
    const oldest = sim.ledger.all().at(-1)!;
    const firstDay = localDate(Date.parse(`${oldest.created_at}Z`), "UTC");
    expect(await dailyFromDatabase(db, "UTC")).toEqual(dailyFromSimulator(sim, "UTC", firstDay, localDate(Date.now(), "UTC")));
  }, 120_000);

  test("a zone in the wrong case takes its canonical name", async () => {
    const result = await runCli(["status", "--json"], { DATABASE_URL: db.url, SYNC_ACCOUNT: "acct", SYNC_TIMEZONE: "europe/berlin" });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).snapshots.timezone).toBe("Europe/Berlin");
  });
});
