import { ConfigError, RoleRefusedError } from "../errors.js";
import { inTransaction, withSession } from "./database.js";
import {
  commentOnRoleSql,
  findRoleSql,
  grantSchemaUsageSql,
  grantSelectSql,
  readOnlyByDefaultSql,
  revokeSchemaSql,
  revokeTablesSql,
  upsertRoleSql,
} from "./sql/roles.js";
import { serverVersionSql } from "./sql/server.js";

/** What a BI reader may read: the ledger, its history, the snapshots, the views, and (read-only) the sync's own bookkeeping. */
export const readableRelations = [
  "transactions",
  "transaction_history",
  "transaction_versions",
  "quarantined_rows",
  "spent_credit_snapshots",
  "spent_credit_captures",
  "sync_runs",
  "sync_state",
  "spent_credits_daily",
  "credit_reconciliation_daily",
  "daily_spend_by_balance_type",
  "running_balance",
  "daily_closing_balance",
  "top_ups_and_refunds",
  "ledger_rollups",
  "ledger_daily_rollups",
  "ledger_rollup_zones",
  "daily_ledger_rollups",
  // The proofs' evidence (generect-sync verify): an auditor reads it without write access.
  "balance_checkpoints",
  "balance_checkpoint_values",
  "proof_chain",
  "audit_sweeps",
  "balance_chain",
  "balance_chain_rule",
  "balance_chain_breaks",
] as const;

/**
 * The comment grant-reader puts on the roles it creates. It is how a later call tells its own role
 * (safe to reshape) from anyone else's: ALTER ROLE ... NOLOGIN NOSUPERUSER on an existing role took
 * its owner's login away, and on the server's superuser locked every administrator out.
 */
export const readerRoleComment = "generect-sync read-only reader (made by generect-sync grant-reader)";

/**
 * Creates or updates a read-only role: SELECT on the relations above and nothing else (no write,
 * no CREATE, no access to _prisma_migrations), read-only transactions by default. With a password
 * the role can log in; without one it is a group role to grant to users.
 */
export async function grantReader(
  databaseUrl: string,
  role: string,
  password?: string,
): Promise<{ created: boolean; serverVersion: number }> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    throw new ConfigError(
      `grant-reader: role name ${JSON.stringify(role)} must be lowercase letters, digits and _ (at most 63), starting with a letter or _`,
    );
  }
  return withSession(databaseUrl, async (session) => {
    const exists = await inTransaction(session, async (client) => {
      const found = await client.query<{ super: boolean; me: boolean; comment: string | null }>(findRoleSql, [role]);
      const existing = found.rows[0];
      if (existing) refuseForeignRole(role, existing);
      const exists = existing !== undefined;
      await client.query(upsertRoleSql(role, exists, password));
      await client.query(commentOnRoleSql(role, readerRoleComment));
      await client.query(readOnlyByDefaultSql(role));
      await client.query(revokeTablesSql(role));
      await client.query(revokeSchemaSql(role));
      await client.query(grantSchemaUsageSql(role));
      await client.query(grantSelectSql(role, readableRelations));
      return exists;
    });
    const serverVersion = Number((await session.query<{ v: string }>(serverVersionSql)).rows[0]!.v);
    return { created: !exists, serverVersion };
  });
}

/** Only a role grant-reader made may be reshaped; the checks run before anything is changed. */
function refuseForeignRole(role: string, existing: { super: boolean; me: boolean; comment: string | null }): void {
  const why = existing.super
    ? "is a superuser"
    : existing.me
      ? "is the role this command is connected as"
      : existing.comment !== readerRoleComment
        ? "already exists and was not made by grant-reader"
        : undefined;
  if (why) {
    throw new RoleRefusedError(
      `grant-reader: refusing to change role ${role}: it ${why}, and making it a read-only NOLOGIN role would take its ` +
        `rights away. Choose a new role name (grant-reader creates it), then GRANT it to the users who need to read.`,
    );
  }
}
