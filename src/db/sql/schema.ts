// Checks of the schema the database holds against the one this version ships.

export const appliedMigrationsSql = `SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
