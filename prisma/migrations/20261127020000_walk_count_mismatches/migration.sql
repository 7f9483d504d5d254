-- Windows committed although the API's count disagreed with what their walks saw (issue #14).
ALTER TABLE "sync_runs" ADD COLUMN "count_mismatches" INTEGER NOT NULL DEFAULT 0;

COMMENT ON COLUMN "sync_runs"."count_mismatches" IS 'Windows committed although the API count disagreed with the rows walked: two complete walks returned the same ids, which outweighs the count';
