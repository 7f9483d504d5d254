import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";

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

/**
 * The engine's pending timers. Its glue imports setTimeout and never clearTimeout, so each timeout
 * the engine sets runs its course even once the engine is done with it: a process that had
 * finished `migrate()` stayed alive 10 s more (measured), and Jest force-exited its workers. They
 * are cleared when the last open engine closes, when nothing can be waiting on one.
 */
const engineTimers = new Set<ReturnType<typeof setTimeout>>();
let openEngines = 0;

function trackedSetTimeout(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(() => {
    engineTimers.delete(timer);
    callback();
  }, ms >>> 0);
  engineTimers.add(timer);
  return timer;
}

async function loadBindings(): Promise<Bindings> {
  const glueUrl = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const glue = (await import(glueUrl)) as Bindings;
  const wasmFile = path.join(path.dirname(glueUrl), "schema_engine_bg.wasm");
  // The import's name carries a hash of its signature, which changes between engine releases.
  const imports: Record<string, unknown> = { ...glue };
  for (const name of Object.keys(glue)) if (name.startsWith("__wbg_setTimeout_")) imports[name] = trackedSetTimeout;
  const { instance } = await WebAssembly.instantiate(await readFile(wasmFile), {
    "./schema_engine_bg.js": imports,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

/**
 * Opens the schema engine on a database; `close()` frees the engine, ends its connections and, once
 * no engine is open, clears the timers engines left (nothing of it then keeps the process alive).
 */
export async function openSchemaEngine(
  databaseUrl: string,
  onLog: (message: string) => void = () => {},
): Promise<{ engine: SchemaEngine; close(): Promise<void> }> {
  bindings ??= loadBindings();
  const glue = await bindings;
  // The pool is ours, not the adapter's: the engine never disposes the adapter it connects, so a
  // pool it made would keep its idle connection open (10 s) after the engine is freed.
  const pool = new pg.Pool({ connectionString: databaseUrl });
  let released = false;
  const release = async () => {
    released = true;
    openEngines -= 1;
    try {
      await pool.end();
    } finally {
      if (openEngines === 0) {
        for (const timer of engineTimers) clearTimeout(timer);
        engineTimers.clear();
      }
    }
  };
  openEngines += 1;
  let engine: SchemaEngine;
  try {
    engine = await glue.SchemaEngine.new({ datamodels: undefined }, onLog, bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool)));
  } catch (error) {
    await release();
    throw error;
  }
  return {
    engine,
    async close() {
      if (released) return; // a second close must neither free the engine again nor count it out twice
      try {
        engine.free();
      } finally {
        await release();
      }
    },
  };
}
