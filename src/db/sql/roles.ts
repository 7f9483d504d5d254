// The read-only roles of grant-reader. DDL cannot take parameters, so the statements that name a
// role (or carry its password) are built here, each quoting what it takes with pg's escaping
// (the functions a pg.Client's escapeIdentifier / escapeLiteral call).
import pg from "pg";

/** Whether the role exists, and what it is: a superuser, the role this session is, and its comment. $1 role name. */
export const findRoleSql = `SELECT rolsuper AS super, rolname IN (current_user, session_user) AS me, shobj_description(oid, 'pg_authid') AS comment
       FROM pg_roles WHERE rolname = $1`;

/** Creates the role, or reshapes the one grant-reader made: with a password it can log in, without one it is a group role. */
export function upsertRoleSql(role: string, exists: boolean, password: string | undefined): string {
  const login = password === undefined ? "NOLOGIN" : `LOGIN PASSWORD ${pg.escapeLiteral(password)}`;
  return `${exists ? "ALTER" : "CREATE"} ROLE ${pg.escapeIdentifier(role)} ${login} NOSUPERUSER NOCREATEDB NOCREATEROLE`;
}

export function commentOnRoleSql(role: string, comment: string): string {
  return `COMMENT ON ROLE ${pg.escapeIdentifier(role)} IS ${pg.escapeLiteral(comment)}`;
}

/**
 * Applies to sessions that log in as this role: not to the members of a group role, who keep
 * their own settings (the grants are what holds them to reading).
 */
export function readOnlyByDefaultSql(role: string): string {
  return `ALTER ROLE ${pg.escapeIdentifier(role)} SET default_transaction_read_only = on`;
}

export function revokeTablesSql(role: string): string {
  return `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${pg.escapeIdentifier(role)}`;
}

export function revokeSchemaSql(role: string): string {
  return `REVOKE ALL ON SCHEMA public FROM ${pg.escapeIdentifier(role)}`;
}

export function grantSchemaUsageSql(role: string): string {
  return `GRANT USAGE ON SCHEMA public TO ${pg.escapeIdentifier(role)}`;
}

/** SELECT on `relations` and nothing else. */
export function grantSelectSql(role: string, relations: readonly string[]): string {
  return `GRANT SELECT ON ${relations.map((r) => pg.escapeIdentifier(r)).join(", ")} TO ${pg.escapeIdentifier(role)}`;
}
