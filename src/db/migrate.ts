import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import { migrationsDir } from "./paths.js";
import { openSchemaEngine } from "./schema-engine.js";

const noFilter = { externalTables: [], externalEnums: [] };

/** Reads prisma/migrations the way the Prisma CLI does before handing it to the schema engine. */
export async function readMigrations(dir = migrationsDir): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name, "migration.sql");
      const content = await readFile(file, "utf8").then(
        (value) => ({ tag: "ok" as const, value }),
        (error: Error) => ({ tag: "error" as const, value: error.message }),
      );
      return { path: name, migrationFile: { path: "migration.sql", content } };
    }),
  );
  const lockfile = path.join(dir, "migration_lock.toml");
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: await readFile(lockfile, "utf8").catch(() => null) },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

/**
 * Applies every pending migration of prisma/migrations and records it in `_prisma_migrations`,
 * exactly as `prisma migrate deploy` does (it is the same engine), so either can be used on a database.
 */
export async function migrate(databaseUrl: string): Promise<{ applied: string[] }> {
  const migrationsList = await readMigrations();
  const { engine, close } = await openSchemaEngine(databaseUrl);
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: noFilter });
    return { applied: appliedMigrationNames };
  } finally {
    await close();
  }
}
