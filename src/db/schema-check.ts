import pg from "pg";
import { SyncError } from "../errors.js";
import { readMigrations } from "./migrate.js";

/** Fails with a plain hint when the database lacks migrations this version needs. */
export async function assertMigrated(databaseUrl: string): Promise<void> {
  const expected = (await readMigrations()).migrationDirectories.map((m) => m.path);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    ).catch(() => ({ rows: [] as { name: string }[] }));
    const applied = new Set(rows.map((r) => r.name));
    const missing = expected.filter((name) => !applied.has(name));
    if (missing.length) {
      throw new SyncError("SCHEMA_NOT_MIGRATED", `the database lacks ${missing.length} migration(s) (${missing.join(", ")}): run \`generect-sync migrate\` first`);
    }
  } finally {
    await client.end();
  }
}
