// Prints the statement's HTML through a Chromium the machine already has (GENERECT_CHROMIUM, or
// chromium / chromium-browser / google-chrome on PATH): no browser is downloaded.
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { SyncError } from "../errors.js";

export class ChromiumMissingError extends SyncError {
  constructor() {
    super(
      "CHROMIUM_MISSING",
      "--pdf needs a Chromium: set GENERECT_CHROMIUM to its executable, or put chromium on PATH (Debian: apt-get install chromium)",
    );
  }
}

const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

export function findChromium(env: Record<string, string | undefined>): string | undefined {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (env.GENERECT_CHROMIUM) return executable(env.GENERECT_CHROMIUM) ? env.GENERECT_CHROMIUM : undefined;
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    for (const name of NAMES) if (executable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Opens the HTML in a headless Chromium with no network and returns the printed PDF. */
export async function printPdf(html: string, executablePath: string): Promise<Buffer> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    await page.route("**/*", (route) => route.abort()); // self-contained: nothing may be fetched
    await page.setContent(html, { waitUntil: "load" });
    // Every page gets the statement's title and "page N of M" in the @page margins.
    const title = await page.title();
    const small = 'style="font:8px sans-serif;color:#555;width:100%;padding:0 12mm"';
    return await page.pdf({
      preferCSSPageSize: true,
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: `<div ${small}>${title.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</div>`,
      footerTemplate: `<div ${small}>page <span class="pageNumber"></span> of <span class="totalPages"></span></div>`,
    });
  } finally {
    await browser.close();
  }
}
