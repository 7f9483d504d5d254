import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { CREDENTIALS_FILE, defaultDataDir, type EmbeddedPostgresHandle, startEmbeddedPostgres } from "../../src/db/embedded/index.js";
import { repoRoot } from "../helpers/cli.js";
import { adminUrl, createMigratedDatabase, createTestDatabase, query } from "../helpers/database.js";

const isRoot = process.getuid?.() === 0;

describe("test databases", () => {
  test("the harness published the chosen server", () => {
    expect(adminUrl()).toMatch(/^postgres(ql)?:\/\//);
    expect(["env", "testcontainers", "embedded"]).toContain(process.env.GENERECT_TEST_DB_KIND);
  });

  test("createTestDatabase gives isolated, working databases", async () => {
    const a = await createTestDatabase("iso-a");
    const b = await createTestDatabase("iso-a");
    try {
      expect(a.name).not.toBe(b.name);
      expect(a.name).toMatch(/^gs_iso_a_\d+_[0-9a-f]{8}$/);
      expect(await query(a.url, "SELECT current_database() AS db")).toEqual([{ db: a.name }]);
      expect(await query(b.url, "SELECT current_database() AS db")).toEqual([{ db: b.name }]);

      await query(a.url, "CREATE TABLE t (id int PRIMARY KEY, note text)");
      await query(a.url, "INSERT INTO t VALUES ($1, $2)", [1, "only in a"]);
      expect(await query(a.url, "SELECT id, note FROM t")).toEqual([{ id: 1, note: "only in a" }]);
      expect(await query(b.url, "SELECT to_regclass('public.t') AS t")).toEqual([{ t: null }]);
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  test("database names are sanitised and fit PostgreSQL's 63-byte limit", async () => {
    const db = await createTestDatabase(`Weird Label/ÄÖ — "quoted"; DROP TABLE x; ${"very long ".repeat(20)}`);
    try {
      expect(db.name.length).toBeLessThanOrEqual(63);
      expect(db.name).toMatch(/^gs_weird_label_ao_quoted_drop_table_x_[a-z0-9_]*_\d+_[0-9a-f]{8}$/);
      expect(await query(db.url, "SELECT current_database() AS db")).toEqual([{ db: db.name }]);
    } finally {
      await db.drop();
    }
  });

  test("drop() terminates open connections, drops the database and can be repeated", async () => {
    const db = await createTestDatabase("drop");
    const held = new pg.Client({ connectionString: db.url });
    held.on("error", () => {});
    await held.connect();
    await held.query("SELECT 1");

    await db.drop();

    expect(await query(adminUrl(), "SELECT datname FROM pg_database WHERE datname = $1", [db.name])).toEqual([]);
    await expect(held.query("SELECT 1")).rejects.toThrow();
    await held.end().catch(() => {});
    await expect(query(db.url, "SELECT 1")).rejects.toMatchObject({ code: "3D000" });
    await expect(db.drop()).resolves.toBeUndefined();
  });

  test("an unreachable server gives a helpful message without the password", async () => {
    const error = (await query("postgres://app:TopSecret@127.0.0.1:1/postgres", "SELECT 1").catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain("postgres://app:***@127.0.0.1:1/postgres");
    expect(error.message).not.toContain("TopSecret");
    expect(error.message).toContain("TEST_DATABASE_URL");
    expect(error.message).toContain("testcontainers");
    expect(error.message).toContain("embedded");
  });

  test("adminUrl() explains a missing GENERECT_TEST_ADMIN_URL", () => {
    const saved = process.env.GENERECT_TEST_ADMIN_URL;
    delete process.env.GENERECT_TEST_ADMIN_URL;
    try {
      expect(() => adminUrl()).toThrow(/globalSetup/);
    } finally {
      process.env.GENERECT_TEST_ADMIN_URL = saved;
    }
  });

  test("createMigratedDatabase copies a migrated template into independent databases", async () => {
    const a = await createMigratedDatabase("migrated-a");
    const b = await createMigratedDatabase("migrated-b");
    try {
      const tables = (url: string) =>
        query<{ table_name: string }>(
          url,
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        ).then((rows) => rows.map((r) => r.table_name));
      const expected = expect.arrayContaining(["_prisma_migrations", "sync_runs", "sync_state", "transaction_versions", "transactions"]);
      expect(await tables(a.url)).toEqual(expected);
      expect(await tables(b.url)).toEqual(expected);

      await query(a.url, "CREATE TABLE scratch (x int)");
      expect(await tables(a.url)).toContain("scratch");
      expect(await tables(b.url)).not.toContain("scratch");

      // The template itself is built once and does not accept connections.
      const templates = await query<{ datname: string; datallowconn: boolean }>(
        adminUrl(),
        "SELECT datname, datallowconn FROM pg_database WHERE datname LIKE 'gs\\_tmpl\\_%' AND datname NOT LIKE '%\\_build\\_%'",
      );
      expect(templates.length).toBeGreaterThanOrEqual(1);
      expect(templates.every((t) => t.datallowconn === false)).toBe(true);
    } finally {
      await a.drop();
      await b.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("embedded Postgres", () => {
  const tempDirs: string[] = [];
  const handles: EmbeddedPostgresHandle[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    for (const handle of handles) await handle.stop();
    for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
  });

  /** A fresh parent directory; the data directory inside it does not exist yet. */
  async function freshDataDir(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-sync-embedded-test-"));
    tempDirs.push(dir);
    if (isRoot) await fs.chmod(dir, 0o755); // the server runs as the OS user "postgres"
    return path.join(dir, "pg");
  }

  async function start(dataDir: string, extra: { port?: number; log?: (m: string) => void } = {}) {
    const handle = await startEmbeddedPostgres({ dataDir, ...extra });
    handles.push(handle);
    return handle;
  }

  function freePort(): Promise<number> {
    return new Promise((resolve) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
  }

  async function postmasterPid(dataDir: string): Promise<number> {
    const text = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8");
    return Number.parseInt(text.split("\n")[0] ?? "", 10);
  }

  async function waitUntilDead(pid: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      const state = await fs.readFile(`/proc/${pid}/stat`, "utf8").then(
        (s) => s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3),
        () => "",
      );
      if (state === "Z" || state === "") return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`process ${pid} did not die`);
  }

  test("defaultDataDir follows GENERECT_SYNC_HOME", () => {
    const saved = process.env.GENERECT_SYNC_HOME;
    try {
      process.env.GENERECT_SYNC_HOME = "/srv/gs";
      expect(defaultDataDir()).toBe("/srv/gs/pg");
      delete process.env.GENERECT_SYNC_HOME;
      expect(defaultDataDir()).toBe(path.resolve(process.cwd(), ".generect-sync", "pg"));
    } finally {
      if (saved === undefined) delete process.env.GENERECT_SYNC_HOME;
      else process.env.GENERECT_SYNC_HOME = saved;
    }
  });

  test("persists data across stop/start and reuses its generated credentials", async () => {
    const dataDir = await freshDataDir();
    const lines: string[] = [];
    const first = await start(dataDir, { log: (m) => lines.push(m) });
    expect(first.dataDir).toBe(dataDir);
    expect(first.url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${first.port}/postgres$`));
    expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);

    // The generated password is kept (0600) in the data directory and never logged.
    const credentialsFile = path.join(dataDir, CREDENTIALS_FILE);
    expect((await fs.stat(credentialsFile)).mode & 0o777).toBe(0o600);
    const password = decodeURIComponent(new URL(first.url).password);
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(JSON.parse(await fs.readFile(credentialsFile, "utf8"))).toEqual({ user: "postgres", password });
    expect(lines.some((l) => l.includes("***"))).toBe(true);
    expect(lines.join("\n")).not.toContain(password);

    const [row] = await query<{ server_version: string }>(first.url, "SHOW server_version");
    expect(row?.server_version).toMatch(/^18\./);
    expect(await query(first.url, "SHOW server_encoding")).toEqual([{ server_encoding: "UTF8" }]);
    await query(first.url, "CREATE TABLE kept (id int PRIMARY KEY, note text)");
    await query(first.url, "INSERT INTO kept VALUES (1, 'survives a restart')");
    await first.stop();
    await first.stop(); // idempotent
    expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false);
    await expect(query(first.url, "SELECT 1")).rejects.toThrow();

    const second = await start(dataDir);
    expect(decodeURIComponent(new URL(second.url).password)).toBe(password);
    expect(await query(second.url, "SELECT id, note FROM kept")).toEqual([{ id: 1, note: "survives a restart" }]);
    await second.stop();
  });

  test("honours an explicit port and an explicit password", async () => {
    const dataDir = await freshDataDir();
    const port = await freePort();
    const handle = await startEmbeddedPostgres({ dataDir, port, password: "s3cret/with@special:chars" });
    handles.push(handle);
    expect(handle.port).toBe(port);
    expect(handle.url).toBe(`postgres://postgres:${encodeURIComponent("s3cret/with@special:chars")}@127.0.0.1:${port}/postgres`);
    expect(await query(handle.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    // A caller-supplied password is not written to disk.
    expect(JSON.parse(await fs.readFile(path.join(dataDir, CREDENTIALS_FILE), "utf8"))).toEqual({ user: "postgres" });
    await handle.stop();
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/password is unknown/);
  });

  test("recovers from a killed server (stale postmaster.pid with a dead pid)", async () => {
    const dataDir = await freshDataDir();
    const first = await start(dataDir);
    await query(first.url, "CREATE TABLE kept (id int)");
    await query(first.url, "INSERT INTO kept VALUES (42)");

    const pid = await postmasterPid(dataDir);
    process.kill(pid, "SIGKILL");
    await waitUntilDead(pid);
    await first.stop(); // must not hang on a dead server
    expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(true);

    const lines: string[] = [];
    const second = await start(dataDir, { log: (m) => lines.push(m) });
    expect(lines.join("\n")).toMatch(/removed stale postmaster\.pid \(process \d+ is not running\)/);
    expect(await query(second.url, "SELECT id FROM kept")).toEqual([{ id: 42 }]);
    await second.stop();
  });

  test("a postmaster.pid whose pid now belongs to another program is stale", async () => {
    const dataDir = await freshDataDir();
    const first = await start(dataDir);
    await first.stop();

    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(sleeper);
    const fakePid = `${sleeper.pid}\n${dataDir}\n1700000000\n5432\n\nlocalhost\n  1234567     98304\nready   \n`;
    await fs.writeFile(path.join(dataDir, "postmaster.pid"), fakePid);

    const lines: string[] = [];
    const second = await start(dataDir, { log: (m) => lines.push(m) });
    expect(lines.join("\n")).toMatch(/now belongs to "sleep"/);
    expect(await query(second.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await second.stop();
    sleeper.kill("SIGKILL");
  });

  test("a server orphaned by a killed Node process is stopped and replaced; a live one is reported", async () => {
    const dataDir = await freshDataDir();
    const first = await start(dataDir);
    await query(first.url, "CREATE TABLE kept (id int)");
    await query(first.url, "INSERT INTO kept VALUES (7)");
    await first.stop();

    // Another Node process starts the server on the same directory (as a crashed generect-sync would have)...
    const { user, password } = JSON.parse(await fs.readFile(path.join(dataDir, CREDENTIALS_FILE), "utf8"));
    const port = await freePort();
    const other = spawn(process.execPath, [path.join(repoRoot, "test/helpers/embedded-server.mjs")], {
      cwd: process.cwd(),
      env: { ...process.env, GS_EMBEDDED_SERVER: JSON.stringify({ dataDir, user, password, port, createPostgresUser: isRoot }) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(other);
    await new Promise<void>((resolve, reject) => {
      other.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("READY") && resolve());
      other.once("exit", (code) => reject(new Error(`helper exited with ${code}`)));
    });
    const orphanPid = await postmasterPid(dataDir);

    // ...while that process lives, the directory is in use...
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/already running/);

    // ...once it is killed (SIGKILL: no cleanup), its server is an orphan that we shut down and replace.
    other.kill("SIGKILL");
    await new Promise((resolve) => (other.exitCode !== null || other.signalCode !== null ? resolve(null) : other.once("exit", resolve)));
    const lines: string[] = [];
    const second = await start(dataDir, { log: (m) => lines.push(m) });
    expect(lines.join("\n")).toContain(`stopping the orphaned server left by a killed process (pid ${orphanPid})`);
    await waitUntilDead(orphanPid);
    expect(await query(second.url, "SELECT id FROM kept")).toEqual([{ id: 7 }]);
    await second.stop();
  });

  test("refuses to initialise a non-empty directory that is not a Postgres data directory", async () => {
    const dataDir = await freshDataDir();
    await fs.mkdir(dataDir);
    await fs.writeFile(path.join(dataDir, "precious.txt"), "not a database");
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/not a Postgres data directory/);
    expect(await fs.readFile(path.join(dataDir, "precious.txt"), "utf8")).toBe("not a database");
  });

  (isRoot ? test : test.skip)("as root, explains a data directory the postgres OS user cannot reach", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-sync-embedded-test-"));
    tempDirs.push(dir); // left at mode 0700
    await expect(startEmbeddedPostgres({ dataDir: path.join(dir, "pg") })).rejects.toThrow(/cannot enter .*chmod o\+x/s);
  });
});
