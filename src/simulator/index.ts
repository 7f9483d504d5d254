// Public surface of the Generect API simulator: an in-memory Ledger, a deterministic seed generator,
// and startSimulator(), a node:http server answering GET /api/auth/transactions/ and
// /api/auth/transactions/spent_credits/ the way the real API does (quirks included), with faults
// that tests switch on to make it misbehave. Money is exact decimal text end to end.

export { addDecimals, formatUnits, normalizeDecimal, parseUnits, tryParseUnits } from "./decimal.js";
export {
  BAD_ROW_KINDS,
  type BadRowKind,
  CHURN_KINDS,
  type ChurnKind,
  FAULT_KINDS,
  type FaultKind,
  type FaultSettings,
  REJECTED_ROW_KINDS,
  validateFaultSettings,
} from "./faults.js";
export { JsonNumber } from "./json.js";
export { Ledger, type QueryResult, type TransactionInput } from "./ledger.js";
export { LINK_ORIGIN } from "./links.js";
export { type SeedOptions, seedTransactions } from "./seed.js";
export {
  type InterceptResponse,
  type SimulatorFaults,
  type SimulatorHandle,
  type SimulatorOptions,
  SPENT_CREDITS_PATH,
  startSimulator,
  TRANSACTIONS_PATH,
  USERS_ME_BALANCE_TYPES,
  USERS_ME_PATH,
} from "./server.js";
export { ENDPOINT_LABELS, type SpentCreditsParams, type SpentCreditsResult } from "./spent-credits.js";
export { formatMicros, parseNaive } from "./time.js";
export type { SimTransaction, SpentPeriod, TxStatus } from "./types.js";
export { BadRequestError, SPENT_PERIODS, TX_STATUSES } from "./types.js";
