import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";

// The rules the README's Architecture section draws, checked by the tools that own them. Each is
// also shown to fail on a violation, so a rule file that stopped matching anything would be caught.
const root = path.resolve(import.meta.dirname, "../..");
const depcruise = path.join(root, "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs");
const biome = path.join(root, "node_modules/.bin/biome");

function run(command: string, args: string[], cwd = root) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("architecture rules", () => {
  test("src/ keeps its folder rules (dependency-cruiser)", () => {
    const result = run(process.execPath, [depcruise, "src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"]);
    expect(result.output).not.toMatch(/error/);
    expect(result.status).toBe(0);
  });

  test("a file breaking a rule is reported (config importing sync, a pool opened outside db/)", () => {
    // A scratch tree with the same rule file: the real src/ is never touched.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-rules-"));
    try {
      for (const file of [".dependency-cruiser.cjs", "tsconfig.json"]) fs.copyFileSync(path.join(root, file), path.join(dir, file));
      fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
      fs.mkdirSync(path.join(dir, "src/config"), { recursive: true });
      fs.mkdirSync(path.join(dir, "src/sync"), { recursive: true });
      fs.writeFileSync(path.join(dir, "src/sync/plan.ts"), 'import pg from "pg";\nexport const pool = new pg.Pool();\n');
      fs.writeFileSync(path.join(dir, "src/config/index.ts"), 'import { pool } from "../sync/plan.js";\nexport const probe = pool;\n');
      const result = run(process.execPath, [depcruise, "src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], dir);
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/config-is-a-leaf: src\/config\/index.ts → src\/sync\/plan.ts/);
      expect(result.output).toMatch(/only-db-opens-connections: src\/sync\/plan.ts/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the tree is formatted and lint-clean (Biome)", () => {
    const result = run(biome, ["ci", "--colors=off", "."]);
    expect(result.output).toMatch(/Checked \d+ files?/);
    expect(result.status).toBe(0);
  });

  test("Biome reports unformatted code and an unused import", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-biome-"));
    try {
      fs.copyFileSync(path.join(root, "biome.jsonc"), path.join(dir, "biome.jsonc"));
      fs.writeFileSync(path.join(dir, "bad.ts"), 'import { x } from "./y.js";\nexport const a   =  1\n');
      const result = run(biome, ["ci", "--colors=off", "--vcs-enabled=false", "--config-path", dir, "bad.ts"], dir);
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/noUnusedImports/);
      expect(result.output).toMatch(/format/i);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
