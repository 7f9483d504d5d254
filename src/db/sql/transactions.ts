// The current rows of the ledger (transactions) and their superseded versions (transaction_history):
// the statements that write a window's rows and read what the window held. Every value is a
// parameter; columns travel as typed Postgres arrays and are unnested side by side, so a page is one
// statement whatever its size.

/** Columns of a transaction version, in the order the loader's arrays are passed. */
const versionColumns = "created_at, updated_at, status, balance_type, amount, description, after_balance, raw";

/**
 * The batch's columns as rows: $1 ids, $2..$8 the typed version columns, $9 the raw rows, each
 * element its row's exact JSON text. The arrays travel in the binary format (see
 * src/db/binary-array.ts) except the numeric ones ($6, $8: their binary form saved nothing
 * measurable), so Postgres copies uuids, timestamps and text instead of parsing them.
 * They are unnested in the select list, where set-returning functions run in lockstep and so zip
 * the arrays by position as ROWS FROM does, without ROWS FROM's tuplestore per function: a fresh
 * batch's insert cost its backend 8.5 µs a row against 11.5 (binary arrays, 20,000 rows a round,
 * 10 rounds in turn, one session, PostgreSQL 15).
 */
const incomingSql = `incoming AS (
  SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS created_at, unnest($3::timestamptz[]) AS updated_at,
         unnest($4::text[]) AS status, unnest($5::text[]) AS balance_type, unnest($6::numeric[]) AS amount,
         unnest($7::text[]) AS description, unnest($8::numeric[]) AS after_balance, unnest($9::text[]) AS raw
)`;

/**
 * incomingSql with each row's version id, $13 (bigint[], reserveVersionIdsSql's answer): a fresh
 * window's inserts take the ids reserved for them, so the chain's leaves are computed from the rows
 * sent instead of read back (src/proofs/written-leaves.ts).
 */
const incomingWithVersionsSql = `incoming AS (
  SELECT unnest($1::uuid[]) AS id, unnest($13::bigint[]) AS version_id, unnest($2::timestamptz[]) AS created_at,
         unnest($3::timestamptz[]) AS updated_at, unnest($4::text[]) AS status, unnest($5::text[]) AS balance_type,
         unnest($6::numeric[]) AS amount, unnest($7::text[]) AS description, unnest($8::numeric[]) AS after_balance,
         unnest($9::text[]) AS raw
)`;

/**
 * Version ids for a batch about to be inserted, from the sequence the column's default reads, as
 * one array literal in the order taken (one session's nextval only grows). $1 how many.
 */
export const reserveVersionIdsSql = `
SELECT array_agg(v ORDER BY n)::text AS ids
FROM (SELECT n, nextval('transaction_version_id_seq') AS v FROM generate_series(1, $1::int) AS n) reserved`;

/**
 * transaction_history's copy of a superseded current row `t`: the columns before and after its
 * validity's end and the change that ended it, which each statement supplies between them.
 */
const historyColumns = `account, id, version_id, valid_from, valid_to, change, run_id, ${versionColumns}, first_seen_at, deleted_at`;
const supersededHead = "t.account, t.id, t.version_id, t.last_seen_at";
const supersededTail =
  "t.last_run_id, t.created_at, t.updated_at, t.status, t.balance_type, t.amount, t.description, t.after_balance, t.raw, t.first_seen_at, t.deleted_at";

/**
 * Insert a batch into a window the database held nothing of: no row can be an update, so the
 * statement skips every comparison and writes each row once (its history starts empty: a version
 * reaches transaction_history only when superseded). It checks nothing either: a row that does
 * exist anyway (an id seen twice in one walk, or held under another created_at) fails the
 * statement on the primary key, and the loader, which runs it in a savepoint, rolls the batch back
 * and upserts it, which settles it (see src/sync/fresh-inserts.ts). The check per row that this
 * saves cost Postgres about 1.5 µs a row, a tenth of the insert (README, "Storage v2").
 * $1..$9 arrays (incomingSql), $10 account, $11 seen_at, $12 run id, $13 version ids (incomingWithVersionsSql).
 */
export const insertNewPageSql = `
WITH ${incomingWithVersionsSql},
written AS (
  INSERT INTO transactions (account, id, version_id, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT $10, id, version_id, ${versionColumns}, $11, $11, $12 FROM incoming
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM written`;

/**
 * insertNewPageSql for a window past its savepoints: each row's key is checked and a held row
 * left alone (the returned count is then short and the loader upserts the batch).
 * That row is found by NOT EXISTS, not by ON CONFLICT DO NOTHING: a speculative insertion probes
 * the key too, then writes a confirmation record per row, and cost Postgres about 20% more CPU for
 * the same 50,000 rows (84-89 clock ticks against 65-68, six rounds each, one session). No other
 * session writes the account's rows while its run holds the account's lock, and writeRows removes
 * an id repeated within a batch, so the check cannot miss one. OFFSET 0 keeps it a lookup of the
 * key per row: as an anti-join, planned from the statistics of a table still filling, it hashed
 * every row the account held for every batch (auto_explain), a backfill growing quadratically.
 * Same parameters as insertNewPageSql.
 */
export const insertCheckedPageSql = `
WITH ${incomingWithVersionsSql},
written AS (
  INSERT INTO transactions (account, id, version_id, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT $10, id, version_id, ${versionColumns}, $11, $11, $12 FROM incoming i
  WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.account = $10 AND t.id = i.id OFFSET 0)
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM written`;

/** The savepoint a fresh batch is inserted under, and its two ends. */
export const freshBatchSavepointSql = "SAVEPOINT fresh_batch";
export const releaseFreshBatchSql = "RELEASE SAVEPOINT fresh_batch";
export const rollBackFreshBatchSql = "ROLLBACK TO SAVEPOINT fresh_batch";

/** Whether the database holds any row of the account in [$2, $3): an empty window takes insertNewPageSql. */
export const windowHeldSql = `
SELECT EXISTS (SELECT 1 FROM transactions WHERE account = $1 AND created_at >= $2 AND created_at < $3) AS held`;

/**
 * Upsert one page of the account. A row is rewritten only when its payload (`raw`, compared as
 * exact text: -10.100000 to -10.1 is a change) changed or it was marked deleted; its previous
 * version then moves to transaction_history (valid until $11, ended by an update) in the same
 * statement, and so in the same transaction. Every CTE reads the table as it was before the
 * statement, so the history receives the old values and the UPDATE writes the new ones.
 * A row sent with an `updated_at` older than the held version's is not written: an answer from a
 * replica behind on edits would otherwise record the newer version superseded by the older one
 * (src/sync/stale.ts). `stale` lists each such row's id and the held `updated_at` in microseconds.
 * Each incoming row's held row is looked up by its key, in a lateral subquery kept apart by
 * OFFSET 0 (the NOT EXISTS likewise), and reached again by its ctid, from the list of them (a TID
 * scan: joined on ctid alone, with changed rows overestimated, the UPDATE hashed a scan of the
 * whole table, 300,993 rows for 99 changed, auto_explain): as joins, these were planned
 * from the tables' statistics, and without any (autovacuum off, or a table just backfilled) the
 * planner took an account of 20,000 rows for 132, read all of them per statement and compared
 * them with every incoming row: 3.3 s for a page of 825 rows (auto_explain), where the keys take
 * milliseconds. Keyed lookups are right whatever the statistics.
 * $1..$9 arrays (incomingSql), $10 account, $11 seen_at, $12 run id.
 */
export const upsertPageSql = `
WITH ${incomingSql},
changed AS (
  SELECT i.*, t.held, t.held_updated_at, coalesce(i.updated_at < t.held_updated_at, false) AS stale FROM incoming i
  CROSS JOIN LATERAL (
    SELECT x.ctid AS held, x.raw, x.deleted_at, x.updated_at AS held_updated_at FROM transactions x
    WHERE x.account = $10 AND x.id = i.id OFFSET 0
  ) t
  WHERE t.raw IS DISTINCT FROM i.raw OR t.deleted_at IS NOT NULL
),
superseded AS (
  INSERT INTO transaction_history (${historyColumns})
  SELECT ${supersededHead}, $11, 'update', ${supersededTail}
  FROM changed c JOIN transactions t ON t.ctid = c.held
  WHERE t.ctid = ANY (ARRAY(SELECT held FROM changed WHERE NOT stale))
),
updated AS (
  UPDATE transactions t SET
    created_at = c.created_at,
    updated_at = c.updated_at,
    status = c.status,
    balance_type = c.balance_type,
    amount = c.amount,
    description = c.description,
    after_balance = c.after_balance,
    raw = c.raw,
    last_seen_at = $11,
    last_run_id = $12,
    deleted_at = NULL,
    version_id = nextval('transaction_version_id_seq')
  FROM changed c
  WHERE t.ctid = c.held AND t.ctid = ANY (ARRAY(SELECT held FROM changed WHERE NOT stale))
  RETURNING 1
),
inserted AS (
  INSERT INTO transactions (account, id, ${versionColumns}, first_seen_at, last_seen_at, last_run_id)
  SELECT $10, id, ${versionColumns}, $11, $11, $12 FROM incoming i
  WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.account = $10 AND t.id = i.id OFFSET 0)
  ON CONFLICT (account, id) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted,
       (SELECT count(*) FROM updated)::int AS updated,
       ARRAY(SELECT id::text || ' ' || (extract(epoch FROM held_updated_at) * 1000000)::bigint FROM changed WHERE stale) AS stale`;

/**
 * Rows the account holds live in a window that its walk did not return: each is a deletion only
 * once a targeted request confirms it is gone (see src/sync/window.ts); the other fields find it if it moved
 * (src/sync/moved.ts). created_at as whole microseconds.
 * $1 account, $2 from, $3 to, $4 ids seen.
 */
export const deletionCandidatesSql = `
SELECT id::text, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_at,
       amount::text AS amount, after_balance::text AS after_balance, balance_type
FROM transactions
WHERE account = $1 AND created_at >= $2 AND created_at < $3
  AND deleted_at IS NULL AND NOT (id = ANY($4::uuid[]))`;

/**
 * Rows whose absence from the API was confirmed: mark them (never delete: auditors keep history),
 * their listed version moving to transaction_history (ended by a delete) as the updates do. Each
 * is looked up by its key, as in upsertPageSql.
 * $1 account, $2 from, $3 to, $4 ids confirmed gone, $5 seen_at, $6 run id.
 */
export const markDeletedSql = `
WITH gone AS (
  SELECT t.held FROM unnest($4::uuid[]) AS g(id)
  CROSS JOIN LATERAL (
    SELECT x.ctid AS held FROM transactions x
    WHERE x.account = $1 AND x.id = g.id AND x.created_at >= $2 AND x.created_at < $3 AND x.deleted_at IS NULL
    OFFSET 0
  ) t
),
superseded AS (
  INSERT INTO transaction_history (${historyColumns})
  SELECT ${supersededHead}, $5, 'delete', ${supersededTail}
  FROM gone g JOIN transactions t ON t.ctid = g.held
  WHERE t.ctid = ANY (ARRAY(SELECT held FROM gone))
),
marked AS (
  UPDATE transactions t SET deleted_at = $5, last_seen_at = $5, last_run_id = $6,
    version_id = nextval('transaction_version_id_seq')
  FROM gone g WHERE t.ctid = g.held AND t.ctid = ANY (ARRAY(SELECT held FROM gone))
  RETURNING 1
)
SELECT count(*)::int AS deleted FROM marked`;

/** The statements that write a window's rows: the sync's own, or for a comparison the previous release's (bench). */
export interface WritePath {
  /** Inserts into a window that held nothing. */
  insertNewPage: string;
  /**
   * Whether insertNewPage fails on a held key (the loader then runs it in a savepoint); past the
   * savepoints a window may take, insertCheckedPage does the same work checking each key. False:
   * insertNewPage skips held keys itself.
   */
  insertNewPageInSavepoint: boolean;
  insertCheckedPage: string;
  upsertPage: string;
  markDeleted: string;
  /** How the batch's arrays travel: binary (see incomingSql), or as text literals with the raw rows as one JSON array (the previous release). */
  parameters: "binary" | "text";
  /** Whether markDeleted runs after the first walk of a window that held nothing (it cannot find anything there). */
  markDeletedInFreshWindows: boolean;
  /** Whether windows keep ledger_rollups (the previous release's schema has no such table). @default true */
  rollups?: boolean;
  /** Whether runs keep the proofs (users/me checkpoint, hash chain): the previous release, and its schema, had none. */
  proofs: boolean;
  /**
   * Reserves a fresh batch's version ids (reserveVersionIdsSql), which insertNewPage and
   * insertCheckedPage then take as $13. Undefined: they take the column's default (the previous release).
   */
  reserveVersionIds?: string;
  /** Whether a fresh window's batches run under generic plans (src/sync/fresh-inserts.ts). */
  genericPlans?: boolean;
}

export const writePath: WritePath = {
  insertNewPage: insertNewPageSql,
  insertNewPageInSavepoint: true,
  insertCheckedPage: insertCheckedPageSql,
  upsertPage: upsertPageSql,
  markDeleted: markDeletedSql,
  parameters: "binary",
  markDeletedInFreshWindows: false,
  proofs: true,
  reserveVersionIds: reserveVersionIdsSql,
  genericPlans: true,
};

/** The account's oldest row's created_at, deleted rows included, in whole microseconds since the epoch (NULL when it holds none). */
export const oldestHeldSql = `SELECT (extract(epoch FROM min(created_at)) * 1000000)::bigint::text AS oldest FROM transactions WHERE account = $1`;

/** The same among the account's live rows. */
export const oldestLiveSql = `${oldestHeldSql} AND deleted_at IS NULL`;

export const oldestTransactionSql = `
SELECT (extract(epoch FROM min(created_at)) * 1000)::bigint::text AS ms FROM transactions WHERE account = $1`;
