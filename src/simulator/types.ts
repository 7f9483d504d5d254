// The shape of one ledger row, as the simulator stores it. Money and timestamps are kept as the exact
// text the API sends, so nothing is lost to float arithmetic or Date's millisecond precision.

export type TxStatus = "pending" | "success" | "error";

export interface SimTransaction {
  id: string; // uuid
  created_at: string; // naive UTC, 6 fraction digits: "2025-01-07T13:01:15.397996"
  updated_at: string;
  status: TxStatus;
  balance_type: string;
  amount: string; // exact decimal text, e.g. "-0.01"
  description: string;
  after_balance: string; // exact decimal text
}

export const TX_STATUSES: readonly TxStatus[] = ["pending", "success", "error"];

export type SpentPeriod = "day" | "week" | "month" | "quarter" | "year";

export const SPENT_PERIODS: readonly SpentPeriod[] = ["day", "week", "month", "quarter", "year"];

/** Thrown for a request the real API answers with 400; the server turns `message` into `detail`. */
export class BadRequestError extends Error {
  override name = "BadRequestError";
}
