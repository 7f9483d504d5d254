-- The generect-sync version that ran each run (package.json's version), so a run's behaviour can be
-- traced to the code that produced it. Runs recorded before this column existed keep NULL.
ALTER TABLE "sync_runs" ADD COLUMN "version" TEXT;

COMMENT ON COLUMN "sync_runs"."version" IS 'generect-sync version that ran it (NULL for runs before the column existed).';
