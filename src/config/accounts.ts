import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { ConfigError } from "../errors.js";
import { type Config, loadConfig } from "./index.js";

type Env = Record<string, string | undefined>;

/** One entry of SYNC_ACCOUNTS_FILE, resolved against the environment. */
export interface FleetAccount {
  name: string;
  /** The account's configuration: the environment's, with the entry's overrides and its own token. */
  config: Config;
  /** The variable the entry reads its token from. */
  tokenEnv: string;
  /** Why this account cannot run: the account fails, the fleet goes on. */
  tokenError?: TokenProblem;
}

/**
 * TOKEN_MISSING: the token variable is unset or holds what cannot be a key. TOKEN_SHARED: another
 * account of the file has the same key for the same API, so both would mirror one ledger under two
 * names; neither can be told to be the right one, so both fail. The message names variables and
 * accounts, never a key.
 */
export interface TokenProblem {
  code: "TOKEN_MISSING" | "TOKEN_SHARED";
  message: string;
}

/** The entry's keys and the variable each one overrides; `name` and `token_env` are required. */
const overrides = { timezone: "SYNC_TIMEZONE", start: "SYNC_START", lookback: "SYNC_LOOKBACK", api_url: "GENERECT_API_URL" } as const;
const knownKeys = ["name", "token_env", ...Object.keys(overrides)];

/**
 * Reads SYNC_ACCOUNTS_FILE. Every problem of the file (YAML, shape, an entry's field) is a
 * ConfigError naming the file, the entry and the field: a fleet never starts on a half-read file.
 * A token variable that is unset is the account's problem only (see FleetAccount.tokenError).
 */
export function loadAccounts(file: string, env: Env): FleetAccount[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `SYNC_ACCOUNTS_FILE ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length) {
    const first = document.errors[0]!;
    throw new ConfigError(`SYNC_ACCOUNTS_FILE ${file}: not YAML: ${first.message.split("\n")[0]}`);
  }
  const root = document.toJS() as unknown;
  const list = (root as { accounts?: unknown } | null)?.accounts;
  if (!root || typeof root !== "object" || Array.isArray(root) || !Array.isArray(list)) {
    throw new ConfigError(`SYNC_ACCOUNTS_FILE ${file}: expected a mapping with a list "accounts:" of entries (name, token_env)`);
  }
  const extra = Object.keys(root).filter((key) => key !== "accounts");
  if (extra.length) throw new ConfigError(`SYNC_ACCOUNTS_FILE ${file}: unknown top-level key "${extra[0]}" (only "accounts")`);
  if (list.length === 0) throw new ConfigError(`SYNC_ACCOUNTS_FILE ${file}: "accounts" is empty`);

  const seen = new Map<string, number>();
  // Copied once: spreading process.env (an exotic object, read variable by variable) for each entry
  // took half a millisecond an account.
  const base: Env = { ...env };
  // Every entry is checked before any error is raised: a file of hundreds of accounts with a few
  // mistakes is fixed in one pass, not one rerun per mistake.
  const accounts: FleetAccount[] = [];
  const problems: string[] = [];
  for (const [index, entry] of list.entries()) {
    try {
      accounts.push(readEntry(entry, index, seen, base, env));
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length === 1) throw new ConfigError(`SYNC_ACCOUNTS_FILE ${file}: ${problems[0]}`);
  if (problems.length > 1) {
    throw new ConfigError(
      `SYNC_ACCOUNTS_FILE ${file}: ${problems.length} of ${list.length} entries are invalid:\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  failSharedKeys(accounts);
  return accounts;
}

/**
 * Accounts given one key for one API (the same token_env twice, or two variables holding the same
 * value: a copy-paste in the file or the secret store) would each mirror the same ledger, every run
 * succeeding, one client's spend counted twice and the other's never synced. Each of them fails
 * with TOKEN_SHARED, whatever shard it falls in, since the whole file is read everywhere.
 */
function failSharedKeys(accounts: FleetAccount[]): void {
  const byKey = new Map<string, FleetAccount[]>();
  for (const account of accounts) {
    const { apiToken, apiUrl } = account.config;
    if (account.tokenError || !apiToken) continue;
    const key = `${apiUrl}\n${apiToken}`;
    byKey.set(key, [...(byKey.get(key) ?? []), account]);
  }
  for (const sharing of byKey.values()) {
    if (sharing.length < 2) continue;
    for (const account of sharing) {
      const others = sharing
        .filter((other) => other !== account)
        .map((other) =>
          other.tokenEnv === account.tokenEnv
            ? `account "${other.name}" (the same variable)`
            : `${other.tokenEnv} (account "${other.name}")`,
        );
      account.tokenError = {
        code: "TOKEN_SHARED",
        message:
          `${account.tokenEnv} holds the same API key as ${others.join(", ")}: the accounts would each mirror the ` +
          "same ledger. Give each account its own key",
      };
    }
  }
}

/** What is wrong with one entry of the file, naming the entry and the field (the caller adds the file). */
class EntryProblem extends Error {}

/** One entry of the file; an EntryProblem, or a ConfigError when the environment itself is invalid. */
function readEntry(entry: unknown, index: number, seen: Map<string, number>, base: Env, env: Env): FleetAccount {
  const where = (field: string, name?: unknown) =>
    `accounts[${index}]${typeof name === "string" ? ` (${JSON.stringify(name)})` : ""}, field ${field}`;
  if (!entry || typeof entry !== "object" || Array.isArray(entry)) {
    throw new EntryProblem(`accounts[${index}] must be a mapping with name and token_env`);
  }
  const fields = entry as Record<string, unknown>;
  const name = fields.name;
  for (const key of Object.keys(fields)) {
    if (!knownKeys.includes(key)) throw new EntryProblem(`${where(key, name)}: unknown (allowed: ${knownKeys.join(", ")})`);
  }
  if (typeof name !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new EntryProblem(`${where("name", name)}: must be 1-64 letters, digits, '.', '_' or '-' (it is stored in every row)`);
  }
  if (seen.has(name)) throw new EntryProblem(`${where("name", name)}: also the name of accounts[${seen.get(name)}]`);
  seen.set(name, index);
  const tokenEnv = fields.token_env;
  if (typeof tokenEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) {
    throw new EntryProblem(
      `${where("token_env", name)}: must name an environment variable (e.g. ACME_GENERECT_TOKEN); the token itself never goes in the file`,
    );
  }
  const accountEnv: Env = { ...base, SYNC_ACCOUNT: name, GENERECT_API_TOKEN: undefined };
  for (const [key, variable] of Object.entries(overrides)) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    // YAML reads an unquoted 2024-01-01 as a date: take it back as the day it was written.
    const text = value instanceof Date ? value.toISOString().slice(0, 10) : value;
    if (typeof text !== "string" && typeof text !== "number") throw new EntryProblem(`${where(key, name)}: must be a string`);
    accountEnv[variable] = String(text);
  }
  let config: Config;
  try {
    config = loadConfig(accountEnv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const key = Object.entries(overrides).find(([, variable]) => error.message.startsWith(variable))?.[0];
    // A variable the entry did not set is the environment's problem, the same for every entry.
    if (!key || fields[key] === undefined) throw error;
    throw new EntryProblem(`${where(key, name)}: ${error.message}`);
  }
  // The token is checked as GENERECT_API_TOKEN would be, but its failure stays the account's.
  let missing: string | undefined;
  try {
    config = { ...config, apiToken: loadConfig({ GENERECT_API_TOKEN: env[tokenEnv] }).apiToken };
    if (!config.apiToken) missing = `${tokenEnv} is not set: the account's API key is read from it`;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    missing = error.message.replace("GENERECT_API_TOKEN", tokenEnv);
  }
  return { name, config, tokenEnv, tokenError: missing === undefined ? undefined : { code: "TOKEN_MISSING", message: missing } };
}

/** FNV-1a, 32 bits: a stable hash of the account's name, the same in every pod and release. */
export function accountHash(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export interface Shard {
  index: number;
  count: number;
}

/**
 * The shard this process syncs: `--shard I/N`, or in an Indexed Job JOB_COMPLETION_INDEX with
 * SYNC_SHARDS=N (the manifest sets both: completions = parallelism = N). None: every account.
 */
export function readShard(option: string | undefined, env: Env): Shard | undefined {
  const parse = (index: string, count: string, what: string): Shard => {
    const i = Number(index),
      n = Number(count);
    if (!/^\d+$/.test(index) || !/^\d+$/.test(count) || n < 1 || n > 10_000 || i >= n) {
      throw new ConfigError(`${what}: expected I/N with 0 <= I < N <= 10000, got ${JSON.stringify(`${index}/${count}`)}`);
    }
    return { index: i, count: n };
  };
  if (option !== undefined) {
    const match = /^\s*(\S+)\s*\/\s*(\S+)\s*$/.exec(option);
    return parse(match?.[1] ?? option, match?.[2] ?? "", "--shard");
  }
  const count = env.SYNC_SHARDS?.trim();
  if (!count) return undefined;
  const index = env.JOB_COMPLETION_INDEX?.trim();
  if (index === undefined || index === "") {
    throw new ConfigError("SYNC_SHARDS is set but JOB_COMPLETION_INDEX is not: run as an Indexed Job, or pass --shard I/N");
  }
  return parse(index, count, "JOB_COMPLETION_INDEX/SYNC_SHARDS");
}

export function inShard(name: string, shard: Shard | undefined): boolean {
  return shard === undefined || accountHash(name) % shard.count === shard.index;
}
