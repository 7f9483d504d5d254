-- CreateTable
CREATE TABLE "transactions" (
    "id" UUID NOT NULL,
    "account" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,
    "status" TEXT NOT NULL,
    "balance_type" TEXT NOT NULL,
    "amount" DECIMAL NOT NULL,
    "description" TEXT NOT NULL,
    "after_balance" DECIMAL NOT NULL,
    "raw" JSONB NOT NULL,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(6),
    "last_run_id" BIGINT,

    CONSTRAINT "transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "transaction_versions" (
    "version_id" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "account" TEXT NOT NULL,
    "seen_at" TIMESTAMPTZ(6) NOT NULL,
    "run_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,
    "status" TEXT NOT NULL,
    "balance_type" TEXT NOT NULL,
    "amount" DECIMAL NOT NULL,
    "description" TEXT NOT NULL,
    "after_balance" DECIMAL NOT NULL,
    "raw" JSONB NOT NULL,
    "change" TEXT NOT NULL,

    CONSTRAINT "transaction_versions_pkey" PRIMARY KEY ("version_id")
);

-- CreateTable
CREATE TABLE "sync_state" (
    "account" TEXT NOT NULL,
    "stream" TEXT NOT NULL,
    "watermark" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "run_id" BIGINT,

    CONSTRAINT "sync_state_pkey" PRIMARY KEY ("account","stream")
);

-- CreateTable
CREATE TABLE "sync_runs" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "command" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),
    "windows_walked" INTEGER NOT NULL DEFAULT 0,
    "pages" INTEGER NOT NULL DEFAULT 0,
    "rows_seen" INTEGER NOT NULL DEFAULT 0,
    "rows_inserted" INTEGER NOT NULL DEFAULT 0,
    "rows_updated" INTEGER NOT NULL DEFAULT 0,
    "rows_unchanged" INTEGER NOT NULL DEFAULT 0,
    "rows_deleted" INTEGER NOT NULL DEFAULT 0,
    "api_requests" INTEGER NOT NULL DEFAULT 0,
    "retries" INTEGER NOT NULL DEFAULT 0,
    "watermark_from" TIMESTAMPTZ(6),
    "watermark_to" TIMESTAMPTZ(6),
    "error_code" TEXT,
    "error_message" TEXT,
    "host" TEXT,
    "pid" INTEGER,

    CONSTRAINT "sync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "transactions_created_at_idx" ON "transactions"("created_at");

-- CreateIndex
CREATE INDEX "transactions_balance_type_created_at_idx" ON "transactions"("balance_type", "created_at");

-- CreateIndex
CREATE INDEX "transactions_status_idx" ON "transactions"("status");

-- CreateIndex
CREATE INDEX "transactions_account_created_at_idx" ON "transactions"("account", "created_at");

-- CreateIndex
CREATE INDEX "transaction_versions_id_seen_at_idx" ON "transaction_versions"("id", "seen_at");

-- CreateIndex
CREATE INDEX "transaction_versions_run_id_idx" ON "transaction_versions"("run_id");

-- CreateIndex
CREATE INDEX "sync_runs_account_started_at_idx" ON "sync_runs"("account", "started_at");

-- AddForeignKey
ALTER TABLE "transaction_versions" ADD CONSTRAINT "transaction_versions_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
