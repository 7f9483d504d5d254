-- The UTC views of the daily rollups reach them one account at a time (issue #15). No semicolon
-- may appear inside a string or comment here: the migration runner splits scripts on semicolons.
--
-- daily_ledger_rollups and daily_spend_by_balance_type filtered ledger_daily_rollups on timezone
-- alone. The key begins with the account, so a query on a range of days read the whole table,
-- every registered zone's rows included, and past about 8 MB the planner chose a parallel scan,
-- whose workers took 20 to 150 ms to start on a 2-core server (EXPLAIN ANALYZE: the workers' own
-- scans took 8 ms of 174). Joined to ledger_accounts(), as running_balance and top_ups_and_refunds
-- are, a range of days is one key range per account, and the plan stays in one process. On the
-- bench's 5M-row, fifteen-year ledger (three zones, 151,705 daily rows), each query on the
-- previous and on this definition in turn, medians of 15: "last month per product" 65.4 -> 2.6 ms,
-- daily_spend_by_balance_type's aggregate 69.2 -> 19.3, daily_ledger_rollups' aggregate
-- 64.7 -> 33.5, its last 30 days 59.2 -> 2.2, a first 100 rows 1.1 -> 1.8 (the accounts' lookup).
-- Same columns, same rows (compared both ways on that ledger and in the tests).
CREATE OR REPLACE VIEW "daily_ledger_rollups" AS
SELECT r.account, r.day, r.balance_type, r.status, r.charges, r.charge_count, r.top_ups, r.top_up_count, r.refunds, r.refund_count,
       r.live_rows, r.deleted_rows, r.closing_at, r.closing_balance
FROM ledger_accounts() a(account)
JOIN "ledger_daily_rollups" r ON r.account = a.account AND r.timezone = 'UTC';

CREATE OR REPLACE VIEW "daily_spend_by_balance_type" AS
SELECT r.account, r.day, r.balance_type, -r.charges AS credits_spent, r.charge_count AS charges
FROM ledger_accounts() a(account)
JOIN "ledger_daily_rollups" r ON r.account = a.account AND r.timezone = 'UTC'
WHERE r.status = 'success' AND r.charge_count > 0;
