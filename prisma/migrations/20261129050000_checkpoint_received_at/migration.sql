-- When each users/me answer arrived. Generect computes the balances at some instant between the
-- request (captured_at) and the answer, so verify judges a checkpoint against every balance the
-- ledger held in that span, not the one at captured_at alone: a row booked while the request was in
-- flight (network latency, retries whose Retry-After may reach 60 s) made an exact mirror differ.
-- Checkpoints captured before this column existed keep NULL and are judged at captured_at as
-- before. No semicolon may appear inside a string or comment here: the migration runner splits
-- scripts on semicolons.
ALTER TABLE "balance_checkpoints" ADD COLUMN "received_at" TIMESTAMPTZ(6);

COMMENT ON COLUMN "balance_checkpoints"."received_at" IS 'When the users/me answer arrived (UTC, rounded up to the next millisecond): its balances are the ledger''s at some instant from captured_at to this one. NULL for a missing checkpoint and for checkpoints captured before the column existed.';
