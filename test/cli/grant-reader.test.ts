// grant-reader reshapes only roles it made. Roles are server-wide: every role here is a throwaway
// with a unique name, dropped afterwards; the server's own roles are never touched.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { withDatabase } from "../../src/config/database-url.js";
import { readerRoleComment } from "../../src/db/grant-reader.js";
import { runCli } from "../helpers/cli.js";
import { adminUrl, createMigratedDatabase, query, type TestDatabase } from "../helpers/database.js";

interface RoleState {
  super: boolean;
  login: boolean;
  createrole: boolean;
  comment: string | null;
  config: string[] | null;
}

describe("grant-reader on existing roles", () => {
  let db: TestDatabase;
  const suffix = randomBytes(4).toString("hex");
  const made: string[] = [];
  const role = (label: string) => {
    const name = `gs_${label}_${suffix}`;
    made.push(name);
    return name;
  };
  const state = async (name: string) =>
    (
      await query<RoleState>(
        adminUrl(),
        `SELECT rolsuper AS super, rolcanlogin AS login, rolcreaterole AS createrole,
       shobj_description(oid, 'pg_authid') AS comment, rolconfig AS config FROM pg_roles WHERE rolname = $1`,
        [name],
      )
    )[0];
  const asRole = (name: string, password: string) => {
    const url = new URL(db.url);
    url.username = name;
    url.password = password;
    return withDatabase(url.toString(), db.name);
  };

  beforeAll(async () => {
    db = await createMigratedDatabase("grant-reader");
  });
  afterAll(async () => {
    await db?.drop();
    for (const name of made) await query(adminUrl(), `DROP ROLE IF EXISTS ${name}`).catch(() => {});
  });

  test("refuses a superuser, with exit 2, and leaves it as it was", async () => {
    const admin = role("su");
    await query(adminUrl(), `CREATE ROLE ${admin} SUPERUSER LOGIN PASSWORD 'su-pass-5150'`);
    const before = await state(admin);
    const result = await runCli(["grant-reader", admin], { DATABASE_URL: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`refusing to change role ${admin}: it is a superuser`);
    expect(result.stdout).toBe("");
    expect(await state(admin)).toEqual(before);
    expect(before).toMatchObject({ super: true, login: true });
  });

  test("refuses an ordinary login role it did not create", async () => {
    const alice = role("alice");
    await query(adminUrl(), `CREATE ROLE ${alice} LOGIN PASSWORD 'alice-pass-8080'`);
    const before = await state(alice);
    const result = await runCli(["grant-reader", alice, "--password-env", "PW"], { DATABASE_URL: db.url, PW: "other-pass-1" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`it already exists and was not made by grant-reader`);
    expect(await state(alice)).toEqual(before);
    // Her login still works, with her own password.
    await expect(query(asRole(alice, "alice-pass-8080"), "SELECT 1")).resolves.toHaveLength(1);
  });

  test("refuses the role it is connected as", async () => {
    const operator = role("op");
    // Even one carrying grant-reader's mark: turning the caller read-only would lock the operator out.
    await query(adminUrl(), `CREATE ROLE ${operator} LOGIN CREATEROLE PASSWORD 'op-pass-4242'`);
    await query(adminUrl(), `COMMENT ON ROLE ${operator} IS '${readerRoleComment}'`);
    const before = await state(operator);
    const result = await runCli(["grant-reader", operator], { DATABASE_URL: asRole(operator, "op-pass-4242") });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("it is the role this command is connected as");
    expect(result.stderr).not.toContain("op-pass-4242");
    expect(await state(operator)).toEqual(before);
  });

  test("updates a role it created (marked with its comment), and a group role's members are not read-only by default", async () => {
    const reader = role("reader");
    const created = await runCli(["grant-reader", reader], { DATABASE_URL: db.url });
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created read-only role ${reader} (NOLOGIN: grant it to users)`);
    expect(await state(reader)).toMatchObject({
      super: false,
      login: false,
      comment: readerRoleComment,
      config: ["default_transaction_read_only=on"],
    });
    const again = await runCli(["grant-reader", reader, "--password-env", "PW"], { DATABASE_URL: db.url, PW: "reader-pass-9" });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`updated read-only role ${reader} (can log in)`);
    expect((await state(reader))!.login).toBe(true);
    await query(adminUrl(), `ALTER ROLE ${reader} NOLOGIN`);

    // What the README says of a group role: a member reads through it and cannot write, but her own
    // sessions are not read-only (the setting is per login role) until she is given it too.
    const bob = role("bob");
    await query(adminUrl(), `CREATE ROLE ${bob} LOGIN PASSWORD 'bob-pass-77'`);
    await query(adminUrl(), `GRANT ${reader} TO ${bob}`);
    const client = new pg.Client({ connectionString: asRole(bob, "bob-pass-77") });
    await client.connect();
    try {
      expect((await client.query("SHOW default_transaction_read_only")).rows[0].default_transaction_read_only).toBe("off");
      await expect(client.query("SELECT count(*) FROM transactions")).resolves.toBeDefined();
      await expect(client.query("DELETE FROM sync_runs")).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
    await query(adminUrl(), `ALTER ROLE ${bob} SET default_transaction_read_only = on`);
    const settings = await query<{ ro: string }>(
      asRole(bob, "bob-pass-77"),
      "SELECT current_setting('default_transaction_read_only') AS ro",
    );
    expect(settings).toEqual([{ ro: "on" }]);
  });
});
