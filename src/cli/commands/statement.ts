// The registry loads this module only when the command runs; playwright-core loads only for --pdf.
import { writeFile } from "node:fs/promises";
import { loadConfig } from "../../config/index.js";
import { withSession } from "../../db/database.js";
import { resolveMigratedDatabase } from "../../db/resolve.js";
import { sessionNoJitSql } from "../../db/sql/server.js";
import { ConfigError } from "../../errors.js";
import { renderCsv, renderJson } from "../../statement/csv.js";
import { renderHtml } from "../../statement/html.js";
import { ChromiumMissingError, findChromium, printPdf } from "../../statement/pdf.js";
import { buildStatement } from "../../statement/query.js";
import { packageVersion } from "../../statement/version.js";
import { type Command, parseOptions } from "../command.js";

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export const statementCommand: Command = {
  name: "statement",
  summary: "monthly credit statement for auditors (HTML, CSV, JSON, PDF)",
  help: `Usage: generect-sync statement [--from 2025-01] [--to 2025-12] [--format html|csv|json] [--out FILE] [--pdf FILE] [--locale en-US]

Per month (local to SYNC_TIMEZONE) and balance type: opening balance, charges, top-ups, refunds,
reversed charges, pending, closing balance and whether they add up; Generect's own spent figure
beside the ledger's; the proofs (incomplete days, differing days, quarantined rows) and the
provenance (runs, watermark). Months after the watermark are marked incomplete, never zero-filled.

  --from, --to   first and last month (default: the oldest transaction's month to this month)
  --format       html (default: one self-contained file), csv or json
  --out FILE     write there instead of stdout
  --pdf FILE     also print the HTML to a PDF through Chromium (GENERECT_CHROMIUM or on PATH)
  --locale       digit grouping of the HTML (default en-US)
  --all          every account of a fleet file: not available yet

Environment: DATABASE_URL, SYNC_ACCOUNT, SYNC_TIMEZONE, GENERECT_CHROMIUM`,
  async run(argv, io) {
    const { values } = parseOptions("statement", argv, {
      from: { type: "string" },
      to: { type: "string" },
      format: { type: "string", default: "html" },
      out: { type: "string" },
      pdf: { type: "string" },
      locale: { type: "string", default: "en-US" },
      all: { type: "boolean" },
    });
    if (values.all)
      throw new ConfigError("statement: --all needs a fleet file, which does not exist yet: run the statement once per SYNC_ACCOUNT");
    for (const name of ["from", "to"] as const) {
      const value = values[name];
      if (value !== undefined && !MONTH.test(value))
        throw new ConfigError(`statement: --${name} ${JSON.stringify(value)} is not a month (YYYY-MM)`);
    }
    if (values.from && values.to && values.from > values.to)
      throw new ConfigError(`statement: --from ${values.from} is after --to ${values.to}`);
    if (!["html", "csv", "json"].includes(values.format))
      throw new ConfigError(`statement: --format ${JSON.stringify(values.format)} must be html, csv or json`);
    try {
      new Intl.NumberFormat(values.locale);
    } catch {
      throw new ConfigError(`statement: --locale ${JSON.stringify(values.locale)} is not a locale`);
    }

    const chromium = values.pdf === undefined ? undefined : findChromium(io.env);
    if (values.pdf !== undefined && !chromium) throw new ChromiumMissingError();

    const config = loadConfig(io.env);
    const db = await resolveMigratedDatabase(config, io.note);
    try {
      const version = await packageVersion();
      const statement = await withSession(db.url, async (client) => {
        await client.query(sessionNoJitSql);
        return buildStatement(client, { account: config.account, timezone: config.timezone, from: values.from, to: values.to, version });
      });
      const html = values.format === "html" || chromium ? renderHtml(statement, { locale: values.locale }) : "";
      const text = values.format === "csv" ? renderCsv(statement) : values.format === "json" ? renderJson(statement) : html;
      if (values.out) await writeFile(values.out, text);
      else io.out(text.trimEnd());
      if (chromium && values.pdf) await writeFile(values.pdf, await printPdf(html, chromium));
      for (const notice of statement.notices) io.note(`statement: ${notice}`);
      if (values.out)
        io.note(
          `statement: ${statement.lines.length} line(s), ${statement.from} to ${statement.to}, written to ${values.out}${values.pdf ? ` and ${values.pdf}` : ""}`,
        );
      return 0;
    } finally {
      await db.close();
    }
  },
};
