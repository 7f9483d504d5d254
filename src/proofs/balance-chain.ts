// The balance chain per balance type (NOTES.md: previous after_balance + amount = after_balance).
// The views (migration 20261127060000_proofs) check it under three rules and pick the one the
// account's data follows; this module reads them. A break never fails a sync: verify reports it.
import type pg from "pg";
import { balanceChainBreaksSql, balanceChainRulesSql } from "../db/sql/proofs.js";

type Queryable = Pick<pg.ClientBase, "query">;

export type ChainRule = "all" | "settled" | "success";
const ruleOrder: ChainRule[] = ["all", "settled", "success"];

export interface BalanceBreak {
  balance_type: string;
  id: string;
  created_at: string;
  status: string;
  amount: string;
  previous_id: string;
  previous_after_balance: string;
  expected: string;
  found: string | null;
}

export interface BalanceChainCheck {
  /** The rule the account's data follows: the fewest breaks, all before settled before success on a tie. */
  rule: ChainRule | undefined;
  /** Breaks under every rule, so a reader sees how clearly the data chose. */
  breaksByRule: Record<ChainRule, number>;
  checked: number;
  breaks: number;
  /** The first breaks under the rule, oldest first. */
  first: BalanceBreak[];
}

/** One pass over the views; `limit` bounds the breaks listed, not the ones counted. */
export async function checkBalanceChain(db: Queryable, account: string, limit = 20): Promise<BalanceChainCheck> {
  const { rows } = await db.query<{ rule: ChainRule; breaks: number; checked: number }>(balanceChainRulesSql, [account]);
  const byRule = Object.fromEntries(ruleOrder.map((r) => [r, 0])) as Record<ChainRule, number>;
  for (const row of rows) byRule[row.rule] = row.breaks;
  const present = ruleOrder.filter((r) => rows.some((row) => row.rule === r));
  const rule = present.sort((a, b) => byRule[a] - byRule[b] || ruleOrder.indexOf(a) - ruleOrder.indexOf(b))[0];
  if (rule === undefined) return { rule, breaksByRule: byRule, checked: 0, breaks: 0, first: [] };
  const first = (await db.query<BalanceBreak>(balanceChainBreaksSql, [account, rule, limit])).rows;
  return { rule, breaksByRule: byRule, checked: rows.find((r) => r.rule === rule)!.checked, breaks: byRule[rule], first };
}
