// Public surface of the Generect API simulator: an in-memory Ledger, a deterministic seed generator,
// and startSimulator(), a node:http server answering GET /api/auth/transactions/ and
// /api/auth/transactions/spent_credits/ the way the real API does (quirks included), with faults
// that tests switch on to make it misbehave. Money is exact decimal text end to end.
export type { SimTransaction, TxStatus, SpentPeriod } from "./types.js";
export { BadRequestError, SPENT_PERIODS, TX_STATUSES } from "./types.js";
export { Ledger, type QueryResult, type TransactionInput } from "./ledger.js";
export { seedTransactions, type SeedOptions } from "./seed.js";
export {
  startSimulator,
  SPENT_CREDITS_PATH,
  TRANSACTIONS_PATH,
  USERS_ME_PATH,
  USERS_ME_BALANCE_TYPES,
  type InterceptResponse,
  type SimulatorFaults,
  type SimulatorHandle,
  type SimulatorOptions,
} from "./server.js";
export { JsonNumber } from "./json.js";
export {
  BAD_ROW_KINDS,
  REJECTED_ROW_KINDS,
  CHURN_KINDS,
  FAULT_KINDS,
  validateFaultSettings,
  type BadRowKind,
  type ChurnKind,
  type FaultKind,
  type FaultSettings,
} from "./faults.js";
export { LINK_ORIGIN } from "./links.js";
export { ENDPOINT_LABELS, type SpentCreditsParams, type SpentCreditsResult } from "./spent-credits.js";
export { addDecimals, formatUnits, normalizeDecimal, parseUnits, tryParseUnits } from "./decimal.js";
export { formatMicros, parseNaive } from "./time.js";
