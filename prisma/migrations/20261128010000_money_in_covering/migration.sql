-- top_ups_and_refunds read from two covering partial indexes, one per kind (issue #15). No
-- semicolon may appear inside a string or comment here: the migration runner splits scripts on
-- semicolons.
--
-- The view's full aggregate read every positive row through transactions_money_in_idx and then
-- its heap page, one page per row (4,573 pages for 4,733 rows on the bench's 1M-row ledger, 100 ms
-- with the pages out of shared buffers, EXPLAIN ANALYZE): 91 ms at 5M rows. A covering index
-- needs the kind too, and the description itself cannot be included (a description longer than a
-- btree entry allows, about 2.7 kB, would fail the row's insert). So each kind has its own partial
-- index holding the amount, and the view lists each kind from its own branch: the predicate says
-- the kind, the scan is index-only (no heap page once the visibility map has them, as after any
-- vacuum). Each positive row is still written into one index, as before: the insert path pays the
-- same index inserts plus one more predicate test a row (Postgres CPU for 1M inserted rows with
-- only these indexes: median 1,475 ms both ways, 6 runs each alternating).
CREATE INDEX "transactions_refunds_idx" ON "transactions"("account", "created_at") INCLUDE ("amount")
  WHERE "amount" > 0 AND "deleted_at" IS NULL AND "description" ILIKE '%refund%';
CREATE INDEX "transactions_top_ups_idx" ON "transactions"("account", "created_at") INCLUDE ("amount")
  WHERE "amount" > 0 AND "deleted_at" IS NULL AND NOT COALESCE("description" ILIKE '%refund%', false);
DROP INDEX "transactions_money_in_idx";

-- The same rows and columns as before: kind is refund exactly when the description mentions a
-- refund (a row without a description is a top-up, as CASE gave it and as the rollups count it).
CREATE OR REPLACE VIEW "top_ups_and_refunds" AS
SELECT t.account, t.id, t.created_at, t.balance_type, t.status, t.amount, t.description, 'refund'::text AS kind
FROM ledger_accounts() a(account)
JOIN "transactions" t ON t.account = a.account
WHERE t.amount > 0 AND t.deleted_at IS NULL AND t.description ILIKE '%refund%'
UNION ALL
SELECT t.account, t.id, t.created_at, t.balance_type, t.status, t.amount, t.description, 'top_up'::text AS kind
FROM ledger_accounts() a(account)
JOIN "transactions" t ON t.account = a.account
WHERE t.amount > 0 AND t.deleted_at IS NULL AND NOT COALESCE(t.description ILIKE '%refund%', false);
