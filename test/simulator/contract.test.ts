// Checks the simulator against the published contract itself, read from the shared API pages at test
// time, so a drift between those pages and the simulator shows up here. A checkout without the
// shared pages beside it (a clone elsewhere) reads the copy in ./contract, taken from them.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import Ajv from "ajv";
import YAML from "yaml";
import { type SimulatorHandle, SPENT_PERIODS, startSimulator } from "../../src/simulator/index.js";
import { get, spentPath, TOKEN, txPath } from "./support.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const docsDir = [path.resolve(repoRoot, "../shared/generect-api"), path.join(repoRoot, "test/simulator/contract")].find((dir) =>
  existsSync(path.join(dir, "spent-credits-endpoint.md")),
)!;
const SPENT_PATH = "/api/auth/transactions/spent_credits/";

/** The OpenAPI document inside the ```yaml (or ````yaml) fence of spent-credits-endpoint.md. */
function openApi(): any {
  const md = readFileSync(path.join(docsDir, "spent-credits-endpoint.md"), "utf8");
  const fence = /^(`{3,})yaml[^\n]*\n([\s\S]*?)^\1[ \t]*$/m.exec(md);
  if (!fence) throw new Error("no yaml block in spent-credits-endpoint.md");
  return YAML.parse(fence[2]!);
}

/** The first JSON object in transactions-endpoint.md that has a "count" key (the response example). */
function transactionsExample(): any {
  const md = readFileSync(path.join(docsDir, "transactions-endpoint.md"), "utf8");
  const start = md.search(/\{\s*"count"/);
  if (start < 0) throw new Error("no JSON example in transactions-endpoint.md");
  let depth = 0,
    inString = false;
  for (let i = start; i < md.length; i++) {
    const c = md[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return JSON.parse(md.slice(start, i + 1));
  }
  throw new Error("unterminated JSON example");
}

const jsonType = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({
    token: TOKEN,
    seed: 5,
    rows: 5000,
    from: new Date("2023-01-01T00:00:00Z"),
    to: new Date("2025-03-01T00:00:00Z"),
  });
});
afterAll(() => sim.close());

describe("spent_credits against the OpenAPI block", () => {
  const spec = openApi();
  const operation = spec.paths[SPENT_PATH].get;
  const schema = operation.responses["200"].content["application/json"].schema;
  const AjvClass = (Ajv as any).default ?? Ajv;
  // OpenAPI 3.0 schemas carry `example`, which JSON Schema does not know: not strict.
  const validate = new AjvClass({ strict: false, allErrors: true }).compile(schema);

  test("the spec's own example fits its schema (sanity check of the extraction)", () => {
    const example = {
      spent_credits: schema.properties.spent_credits.example,
      total_spent_credits: schema.properties.total_spent_credits.example,
    };
    expect(validate(example)).toBe(true);
  });

  test.each(SPENT_PERIODS.map((p) => [p]))("a %s response validates against the 200 schema", async (period) => {
    for (const timezone of ["UTC", "America/Los_Angeles", "Asia/Kolkata"]) {
      const res = await get(sim, spentPath({ timezone, period, start_date: "2023-01-01", end_date: "2025-03-01" }));
      expect(res.status).toBe(200);
      const ok = validate(res.json);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      expect(Object.keys(res.json.spent_credits).length).toBeGreaterThan(0);
      for (const bucket of Object.values(res.json.spent_credits as Record<string, Record<string, number>>)) {
        for (const v of Object.values(bucket)) expect(v).toBeLessThan(0);
      }
    }
  });

  test("the period enum matches", () => {
    const period = operation.parameters.find((p: { name: string }) => p.name === "period");
    expect([...period.schema.enum].sort()).toEqual([...SPENT_PERIODS].sort());
  });

  test("each required parameter, when missing, is a 400", async () => {
    const full: Record<string, string> = { timezone: "UTC", period: "month", start_date: "2024-01-01", end_date: "2024-12-31" };
    const required = operation.parameters.filter((p: { required?: boolean }) => p.required).map((p: { name: string }) => p.name);
    expect(required.sort()).toEqual(Object.keys(full).sort());
    expect((await get(sim, spentPath(full))).status).toBe(200);
    for (const name of required) {
      const { [name]: _missing, ...rest } = full;
      const res = await get(sim, spentPath(rest));
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ status: "error", status_code: 400 });
    }
  });

  test("the spec's path is the one the simulator serves", () => {
    expect(Object.keys(spec.paths)).toContain(SPENT_PATH);
  });
});

describe("transactions against the published example", () => {
  const example = transactionsExample();

  test("same envelope keys, in the same order, with the same JSON types", async () => {
    const res = await get(sim, txPath({ limit: "100", offset: "5" }));
    expect(res.status).toBe(200);
    expect(Object.keys(res.json)).toEqual(Object.keys(example));
    for (const key of ["count", "limit", "max_limit", "offset", "results"]) {
      expect(jsonType(res.json[key])).toBe(jsonType(example[key]));
    }
    for (const key of ["next", "previous"]) expect(["string", "null"]).toContain(jsonType(res.json[key]));
    expect(res.json.max_limit).toBe(example.max_limit);
  });

  test("every row has the example's keys, order and JSON types", async () => {
    const res = await get(sim, txPath());
    const exampleRow = example.results[0];
    const keys = Object.keys(exampleRow);
    const types = keys.map((k) => jsonType(exampleRow[k]));
    expect(res.json.results.length).toBe(100);
    for (const row of res.json.results) {
      expect(Object.keys(row)).toEqual(keys);
      expect(keys.map((k) => jsonType(row[k]))).toEqual(types);
    }
  });

  test("datetimes have the example's shape: naive, microseconds", async () => {
    const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
    for (const r of example.results) expect(r.created_at).toMatch(shape);
    const res = await get(sim, txPath());
    for (const r of res.json.results) {
      expect(r.created_at).toMatch(shape);
      expect(r.updated_at).toMatch(shape);
    }
  });

  test("links point at the same origin as the example's", async () => {
    const res = await get(sim, txPath({ offset: "5" }));
    expect(new URL(res.json.previous).origin).toBe(new URL(example.previous).origin);
    expect(new URL(res.json.next).pathname).toBe(new URL(example.previous).pathname);
  });
});

describe("the copy of the contract pages in test/simulator/contract", () => {
  const shared = path.resolve(repoRoot, "../shared/generect-api");
  test.each(["spent-credits-endpoint.md", "transactions-endpoint.md"])(
    "%s equals the shared page, where the shared pages are present",
    (file) => {
      const copy = readFileSync(path.join(repoRoot, "test/simulator/contract", file), "utf8");
      if (!existsSync(shared)) return expect(copy.length).toBeGreaterThan(0);
      expect(copy).toBe(readFileSync(path.join(shared, file), "utf8"));
    },
  );
});
