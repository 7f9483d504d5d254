import pg from "pg";
import { ConfigError } from "../errors.js";

/** What a BI reader may read: the ledger, its history, the snapshots, the views, and (read-only) the sync's own bookkeeping. */
export const readableRelations = [
  "transactions", "transaction_history", "transaction_versions", "quarantined_rows", "spent_credit_snapshots", "spent_credit_captures", "sync_runs", "sync_state",
  "spent_credits_daily", "credit_reconciliation_daily", "daily_spend_by_balance_type", "running_balance",
  "daily_closing_balance", "top_ups_and_refunds", "ledger_rollups", "ledger_daily_rollups", "ledger_rollup_zones", "daily_ledger_rollups",
] as const;

/**
 * Creates or updates a read-only role: SELECT on the relations above and nothing else (no write,
 * no CREATE, no access to _prisma_migrations), read-only transactions by default. With a password
 * the role can log in; without one it is a group role to grant to users.
 */
export async function grantReader(databaseUrl: string, role: string, password?: string): Promise<{ created: boolean; serverVersion: number }> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    throw new ConfigError(`grant-reader: role name ${JSON.stringify(role)} must be lowercase letters, digits and _ (at most 63), starting with a letter or _`);
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const name = client.escapeIdentifier(role);
    await client.query("BEGIN");
    const exists = (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount === 1;
    const login = password === undefined ? "NOLOGIN" : `LOGIN PASSWORD ${client.escapeLiteral(password)}`;
    await client.query(`${exists ? "ALTER" : "CREATE"} ROLE ${name} ${login} NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await client.query(`ALTER ROLE ${name} SET default_transaction_read_only = on`);
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${name}`);
    await client.query(`REVOKE ALL ON SCHEMA public FROM ${name}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${name}`);
    await client.query(`GRANT SELECT ON ${readableRelations.map((r) => client.escapeIdentifier(r)).join(", ")} TO ${name}`);
    await client.query("COMMIT");
    const serverVersion = Number((await client.query<{ v: string }>("SHOW server_version_num")).rows[0]!.v);
    return { created: !exists, serverVersion };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
