// The six-row ledger the filter tests reason about. Ids end in 1..6 in created_at order, so an
// expected result reads as a list of digits, newest first.
//   1 2025-01-05T10:00:00.000000 success leads_by_icp   -10    after -10
//   2 2025-01-06T00:00:00.000000 pending platform       -0.01  after -0.01
//   3 2025-01-06T12:30:00.500000 success platform       500    after 499.99
//   4 2025-01-07T00:00:00.000000 error   email_verifier -2.25  after -2.25
//   5 2025-01-07T13:01:15.397996 success leads_by_icp   -10    after -20
//   6 2025-01-08T23:59:59.999999 success platform       -0.5   after 499.49

import { Ledger, type SimTransaction, type SimulatorHandle, startSimulator } from "../../src/simulator/index.js";
import { TOKEN } from "./support.js";

const FIXTURE: [string, SimTransaction["status"], string, string][] = [
  ["2025-01-05T10:00:00.000000", "success", "leads_by_icp", "-10"],
  ["2025-01-06T00:00:00.000000", "pending", "platform", "-0.01"],
  ["2025-01-06T12:30:00.500000", "success", "platform", "500"],
  ["2025-01-07T00:00:00.000000", "error", "email_verifier", "-2.25"],
  ["2025-01-07T13:01:15.397996", "success", "leads_by_icp", "-10"],
  ["2025-01-08T23:59:59.999999", "success", "platform", "-0.5"],
];

export function fixtureLedger(): Ledger {
  const ledger = new Ledger();
  for (const [i, [created_at, status, balance_type, amount]] of FIXTURE.entries()) {
    ledger.add({ id: `a0000000-0000-4000-8000-00000000000${i + 1}`, created_at, status, balance_type, amount });
  }
  return ledger;
}

export function startFixtureSimulator(): Promise<SimulatorHandle> {
  return startSimulator({ token: TOKEN, ledger: fixtureLedger() });
}
