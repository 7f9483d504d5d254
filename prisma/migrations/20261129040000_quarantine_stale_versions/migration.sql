-- A row sent with an updated_at older than the version held is kept out of the ledger and
-- quarantined (reason STALE_VERSION). It is found when the window's rows are written, where the
-- row's page and position are no longer known: NULL there, never a made-up value.
ALTER TABLE quarantined_rows ALTER COLUMN page_offset DROP NOT NULL, ALTER COLUMN position DROP NOT NULL;
