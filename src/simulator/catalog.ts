// What a Generect account's rows look like: the balance types and the descriptions that go with
// them. Shared by the seed generator and by Ledger.add's defaults so both produce believable rows.

/** Per-endpoint balance types used before the single `platform` balance existed. */
export const LEGACY_BALANCE_TYPES = [
  "leads_by_icp",
  "lead_by_link",
  "companies_by_icp",
  "company_by_link",
  "email_finder",
  "email_verifier",
] as const;

export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  leads_by_icp: "leads info by ICP",
  lead_by_link: "lead info by link",
  companies_by_icp: "companies info by ICP",
  company_by_link: "company info by link",
  email_finder: "email finder",
  email_verifier: "email verifier",
  platform: "platform usage",
};

export function defaultDescription(balanceType: string): string {
  return DESCRIPTIONS[balanceType] ?? balanceType.replaceAll("_", " ");
}
