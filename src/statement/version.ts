import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The version in package.json (two levels up from src/statement and dist/statement alike). */
export async function packageVersion(): Promise<string> {
  const text = await readFile(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
