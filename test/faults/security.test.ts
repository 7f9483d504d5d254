// Security checks: the API token and the database password never appear in logs, errors,
// sync_runs or `status` output; TLS verification stays on; all SQL is parameterized; the simulator
// refuses a missing or wrong token even while faults are on; and every CLI child of test/faults
// goes through the recorder that scans its output for secrets.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { GenerectClient } from "../../src/api/client.js";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/time.js";
import { repoRoot } from "../helpers/cli.js";
import { adminUrl, createMigratedDatabase, grantTablesTo, query, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator } from "../helpers/sync.js";
import { auditSql, collectConstants, findSqlLiterals, misplacedSql, sqlHome } from "./sql-audit.js";
import { cli, cliTranscripts, guardCliOutput, registerSecret, testToken } from "./support.js";

guardCliOutput();

describe("secrets stay out of every output", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const role = `gs_secret_${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(12).toString("hex")}`;
  let url: string;

  beforeAll(async () => {
    db = await createMigratedDatabase("faults-secrets");
    registerSecret(password);
    // A role that logs in with a password (the machine's server may trust it anyway: the password
    // is in the URL all the same, which is what must not leak).
    await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    url = await grantTablesTo(db, role, password);
    sim = await seededSimulator(1001, 600, 20);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`).catch(() => {});
  });

  test("run (succeeding, then failing on a server that echoes the token), status and status --json print neither secret", async () => {
    const env = {
      DATABASE_URL: url,
      GENERECT_API_URL: sim.url,
      GENERECT_API_TOKEN: testToken,
      SYNC_ACCOUNT: "acct",
      SYNC_WINDOW: "5d",
      LOG_LEVEL: "debug",
    };
    const ok = await cli(["run"], env).done; // cli() rejects if either secret is printed
    expect(ok.code).toBe(0);
    await expectDatabaseEqualsLedger(url, sim);

    // A broken proxy that quotes the request's Authorization header back in its error page.
    sim.faults.intercept = ({ headers }) => ({
      status: 500,
      body: JSON.stringify({ detail: `upstream refused ${headers.authorization}` }),
    });
    const failed = await cli(["run"], { ...env, GENERECT_RETRIES: "1" }).done;
    sim.faults.intercept = undefined;
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error \[API_UNAVAILABLE\]: API answered 500 .*upstream refused Token \[REDACTED\]/);
    expect(failed.stderr).toMatch(/"msg":"retrying: API answered 500 .*upstream refused Token \[REDACTED\]/);

    for (const args of [["status"], ["status", "--json"], ["status", "--json", "--runs", "10"]]) {
      const status = await cli(args, env).done;
      expect(status.code).toBe(0);
      expect(status.stdout).toContain("acct");
    }
    // A database URL with the password in it, unreachable: the error names the server, not the
    // password (after the reconnect budget: a refusal is waited out like a restart, 23-46 s).
    const down = new URL(url);
    down.port = "9";
    const unreachable = await cli(["run"], { ...env, DATABASE_URL: down.toString() }).done;
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /error \[DB_UNAVAILABLE\]: the database stayed unavailable after 9 attempts \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:9\)/,
    );

    expect(cliTranscripts().length).toBeGreaterThanOrEqual(6); // all of them scanned by cli()

    // Nothing stored holds them either.
    const stored = await query<{ text: string }>(
      url,
      `
      SELECT (SELECT coalesce(json_agg(r)::text, '') FROM sync_runs r) ||
             (SELECT coalesce(json_agg(s)::text, '') FROM sync_state s) ||
             (SELECT coalesce(string_agg(raw::text, ''), '') FROM transactions) AS text`,
    );
    expect(stored[0]!.text).toContain("[REDACTED]");
    expect(stored[0]!.text).not.toContain(testToken);
    expect(stored[0]!.text).not.toContain(password);
  }, 120_000);
});

describe("TLS", () => {
  test("the API client keeps certificate verification on (got's options)", () => {
    const client = new GenerectClient({ baseUrl: "https://api.generect.com", token: testToken, timeoutMs: 1000, retries: 0 });
    const options = (client as unknown as { http: { defaults: { options: { https?: { rejectUnauthorized?: boolean } } } } }).http.defaults
      .options;
    expect(options.https?.rejectUnauthorized).not.toBe(false);
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
  });

  test("no source disables verification", async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(path.join(repoRoot, "src"))) {
      const text = await readFile(file, "utf8");
      if (/rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity\s*:/.test(text))
        offenders.push(path.relative(repoRoot, file));
    }
    expect(offenders).toEqual([]);
  });

  test("a server with a self-signed certificate is refused with a clear error, and the token is not in it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "gs-tls-"));
    try {
      await promisify(execFile)("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ]);
      let served = 0;
      const server = https.createServer(
        { key: await readFile(path.join(dir, "key.pem")), cert: await readFile(path.join(dir, "cert.pem")) },
        (_req, res) => {
          served++;
          res.writeHead(200, { "content-type": "application/json" }).end('{"count":0,"results":[]}');
        },
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as { port: number };
      try {
        const client = new GenerectClient({
          baseUrl: `https://127.0.0.1:${port}`,
          token: testToken,
          timeoutMs: 2000,
          retries: 3,
          minRetryDelayMs: 1,
          maxRetryDelayMs: 2,
        });
        const window = { gte: parseTimestamp("2025-01-01")!, lt: parseTimestamp("2025-02-01")!, limit: 100, offset: 0 };
        const error = (await client.listTransactions(window).catch((e: unknown) => e)) as Error & { code?: string };
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toMatch(
          new RegExp(
            `TLS certificate of the API at 127\\.0\\.0\\.1:${port} rejected \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\\)`,
          ),
        );
        expect(client.stats).toEqual({ requests: 1, retries: 0 }); // not retried: retrying cannot fix a certificate
        expect(served).toBe(0); // no request (and so no token) ever reached it
        expect(`${error.message}${error.stack}${JSON.stringify(error)}`).not.toContain(testToken);
      } finally {
        server.close();
        server.closeAllConnections();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("SQL is parameterized", () => {
  test("no value reaches SQL text in src/: every interpolation is a program constant or escaped", async () => {
    const files = [];
    for (const file of await sourceFiles(path.join(repoRoot, "src"))) {
      if (file.includes(`${path.sep}generated${path.sep}`)) continue;
      files.push({ file: path.relative(repoRoot, file).split(path.sep).join("/"), source: await readFile(file, "utf8") });
    }
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter(({ file }) => file.startsWith(sqlHome)).length).toBeGreaterThanOrEqual(10);
    const constants = collectConstants(files);
    expect(files.flatMap(({ file, source }) => auditSql(file, source, constants))).toEqual([]);
  });

  test("SQL has one home: no statement outside src/db/sql/ (transaction control in src/db/, the bench and the oracle aside)", async () => {
    const files = [];
    for (const file of await sourceFiles(path.join(repoRoot, "src"))) {
      if (file.includes(`${path.sep}generated${path.sep}`)) continue;
      files.push({ file: path.relative(repoRoot, file).split(path.sep).join("/"), source: await readFile(file, "utf8") });
    }
    // The home holds the statements: the rule below is not passing because nothing looks like SQL.
    const home = files.filter(({ file }) => file.startsWith(sqlHome)).flatMap(({ file, source }) => findSqlLiterals(file, source));
    expect(home.length).toBeGreaterThan(60);
    expect(files.flatMap(({ file, source }) => misplacedSql(file, source)).map((f) => `${f.file}:${f.line} ${f.text}`)).toEqual([]);
  });

  test("the audit is not blind: it flags values in SQL text and accepts the audited constants", () => {
    const bad = auditSql(
      "bad.ts",
      `
      export async function load(pool, row, account) {
        await pool.query(\`SELECT * FROM transactions WHERE id = '\${row.id}'\`);
        await pool.query("DELETE FROM sync_runs WHERE account = '" + account + "'");
        const sql = \`UPDATE transactions SET description = '\${row.description}'\`;
        await prisma.$queryRawUnsafe(sql);
      }`,
    );
    expect(bad.map((f) => `${f.line} ${f.reason}: ${f.text}`).sort()).toEqual([
      "3 interpolated into SQL text: row.id",
      "3 query text built from a value: `SELECT * FROM transactions WHERE id = '${row.id}'`",
      "4 concatenated into SQL text: account",
      '4 query text built from a value: "DELETE FROM sync_runs WHERE account = \'" + account + "\'"',
      "5 interpolated into SQL text: row.description",
      "6 $queryRawUnsafe bypasses Prisma's parameters: prisma.$queryRawUnsafe(sql)",
    ]);
    const good = auditSql(
      "good.ts",
      `
      const columns = "id, created_at";
      const lockKey = 0x47;
      export const upsertSql = \`INSERT INTO t (\${columns}) SELECT \${columns.split(", ").map((c) => \`i.\${c}\`).join(", ")} FROM i\`;
      export const lockSql = \`SELECT pg_try_advisory_lock(\${lockKey}, hashtext($1))\`;
      export async function ddl(client, name, password) {
        const role = client.escapeIdentifier(name);
        await client.query(\`CREATE ROLE \${role} LOGIN PASSWORD \${client.escapeLiteral(password)}\`);
        await client.query(upsertSql, [1]);
      }`,
    );
    expect(good).toEqual([]);
  });

  test("the placement rule is not blind: it flags a statement anywhere outside src/db/sql/ but transaction control in src/db/", () => {
    const source = `
      const countSql = "SELECT count(*) FROM transactions WHERE account = $1";
      export async function work(db, account) {
        await db.query("BEGIN");
        await db.query(\`
          UPDATE sync_runs SET status = $2 WHERE id = $1\`, [1, "failed"]);
        await db.query(\`DELETE FROM sync_state WHERE account = '\${account}'\`);
        await db.query("COMMIT");
        return "a SELECT in prose is no statement: only a literal that starts with one is";
      }`;
    const flagged = (file: string) => misplacedSql(file, source).map((f) => `${f.line} ${f.text}`);
    const statements = [
      '2 "SELECT count(*) FROM transactions WHERE account = $1"',
      "5 `\n          UPDATE sync_runs SET status = $2 WHERE id = $1`",
      "7 `DELETE FROM sync_state WHERE account = '${account}'`",
    ];
    expect(flagged("src/sync/window.ts")).toEqual([statements[0], '4 "BEGIN"', statements[1], statements[2], '8 "COMMIT"']);
    expect(flagged("src/db/pool.ts")).toEqual(statements);
    expect(flagged("src/db/sql/transactions.ts")).toEqual([]);
    expect(flagged("src/bench/legacy-sql.ts")).toEqual([]);
  });
});

describe("the simulator's authentication", () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    // Every fault on at full rate: none of them may answer before authentication does.
    sim = await seededSimulator(1002, 50, 5, {
      faults: { failRate: 1, throttleRate: 1, invalidJsonRate: 1, truncateRate: 1, resetRate: 1, badRowRate: 1, ignoreFiltersRate: 1 },
    });
  });
  afterAll(() => sim?.close());

  test.each([
    ["no Authorization header", 401, undefined, "Authentication credentials were not provided."],
    ["a Bearer token", 401, `Bearer ${testToken}`, "Authentication credentials were not provided."],
    ["a wrong token", 403, "Token wrong-token-123456", "You do not have permission to perform this action."],
    ["the scheme without a token", 401, "Token ", "Authentication credentials were not provided."],
  ])("%s: answered %i before any fault", async (_name, status, authorization, detail) => {
    for (const p of [
      "/api/auth/transactions/",
      "/api/auth/transactions/spent_credits/?timezone=UTC&period=day&start_date=2025-01-01&end_date=2025-01-02",
    ]) {
      const res = await fetch(`${sim.url}${p}`, { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ detail });
    }
    expect(sim.stats.injected).toEqual({});
  });
});

describe("the scan of CLI output", () => {
  test("every test/faults file starts the CLI through the recording cli() of support.ts", async () => {
    const dir = path.join(repoRoot, "test", "faults");
    const direct: string[] = [];
    for (const name of await readdir(dir)) {
      if (name === "support.ts" || !name.endsWith(".ts")) continue;
      const text = await readFile(path.join(dir, name), "utf8");
      const fromHelpers = /import \{([^}]*)\} from "\.\.\/helpers\/cli\.js"/.exec(text)?.[1] ?? "";
      if (/\b(spawnCli|runCli)\b/.test(fromHelpers)) direct.push(name);
      if (/\bcli\(/.test(text) && !/guardCliOutput\(\);/.test(text)) direct.push(`${name} (no guardCliOutput)`);
    }
    expect(direct).toEqual([]);
  });
});

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}
