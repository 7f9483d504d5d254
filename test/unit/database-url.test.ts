import { describe, expect, test } from "@jest/globals";
import { redactUrl, withDatabase } from "../../src/config/database-url.js";

describe("redactUrl", () => {
  test("hides the password and keeps everything else", () => {
    expect(redactUrl("postgres://app:s3cret@db.example.com:6543/ledger?sslmode=require")).toBe(
      "postgres://app:***@db.example.com:6543/ledger?sslmode=require",
    );
  });

  test("percent-encoded special characters in the password", () => {
    const password = "p@ss:w/rd?#%&=!";
    const url = `postgresql://app:${encodeURIComponent(password)}@127.0.0.1:5432/postgres`;
    const redacted = redactUrl(url);
    expect(redacted).toBe("postgresql://app:***@127.0.0.1:5432/postgres");
    expect(redacted).not.toContain(encodeURIComponent(password));
  });

  test("un-encoded special characters still never leak", () => {
    for (const url of [
      "postgres://app:p@ss@host/db",
      "postgres://app:pa/ss@host/db",
      "postgres://app:pa#ss@host/db",
      "postgres://app:12?x@host/db",
    ]) {
      const redacted = redactUrl(url);
      expect(redacted).toContain("***");
      expect(redacted).not.toMatch(/p@ss|pa\/ss|pa#ss|12\?x/);
    }
  });

  test("URLs without a password are unchanged", () => {
    expect(redactUrl("postgres://postgres@127.0.0.1:5432/postgres")).toBe("postgres://postgres@127.0.0.1:5432/postgres");
    expect(redactUrl("postgres://127.0.0.1/postgres")).toBe("postgres://127.0.0.1/postgres");
  });

  test("libpq keyword/value strings", () => {
    expect(redactUrl("host=db password=s3cret dbname=x")).toBe("host=db password=*** dbname=x");
  });
});

describe("withDatabase", () => {
  test("replaces the database and keeps credentials, host, port and options", () => {
    const password = "p@ss:w/rd?#%";
    const url = `postgres://app:${encodeURIComponent(password)}@127.0.0.1:5432/postgres?sslmode=disable`;
    const other = withDatabase(url, "gs_other");
    expect(other).toBe(`postgres://app:${encodeURIComponent(password)}@127.0.0.1:5432/gs_other?sslmode=disable`);
    const parsed = new URL(other);
    expect(decodeURIComponent(parsed.password)).toBe(password);
  });

  test("works without a password or a database", () => {
    expect(withDatabase("postgres://postgres@127.0.0.1:5432/postgres", "x")).toBe("postgres://postgres@127.0.0.1:5432/x");
    expect(withDatabase("postgres://localhost", "x")).toBe("postgres://localhost/x");
  });

  test("encodes unusual database names and rejects non-postgres URLs", () => {
    expect(withDatabase("postgres://u@h/db", "my db")).toBe("postgres://u@h/my%20db");
    expect(() => withDatabase("http://u:secret@h/db", "x")).toThrow(/postgres/);
    expect(() => withDatabase("http://u:secret@h/db", "x")).not.toThrow(/secret/);
  });
});
