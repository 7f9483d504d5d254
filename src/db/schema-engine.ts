import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

// Prisma's schema engine compiled to WebAssembly: the same engine `prisma migrate deploy` runs,
// without the native binary that the Prisma CLI would download (no network here).
// Node cannot `import` a .wasm file, so the module is instantiated by hand with the imports its
// wasm-bindgen glue (`schema_engine_bg.js`) exports.
const require = createRequire(import.meta.url);

// @types/node does not declare the WebAssembly global; this is the little of it used here.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

type Bindings = typeof import("@prisma/schema-engine-wasm/schema_engine_bg") & {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
};

let bindings: Promise<Bindings> | undefined;

async function loadBindings(): Promise<Bindings> {
  const glueUrl = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const glue = (await import(glueUrl)) as Bindings;
  const wasmFile = path.join(path.dirname(glueUrl), "schema_engine_bg.wasm");
  const { instance } = await WebAssembly.instantiate(await readFile(wasmFile), {
    "./schema_engine_bg.js": glue,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

/** Opens the schema engine on a database; `close()` frees the engine and its connection pool. */
export async function openSchemaEngine(
  databaseUrl: string,
  onLog: (message: string) => void = () => {},
): Promise<{ engine: SchemaEngine; close(): Promise<void> }> {
  bindings ??= loadBindings();
  const glue = await bindings;
  const adapterFactory = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: databaseUrl }));
  const engine = await glue.SchemaEngine.new({ datamodels: undefined }, onLog, adapterFactory);
  return {
    engine,
    async close() {
      engine.free();
    },
  };
}
