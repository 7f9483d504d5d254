// Measures the audit sweep (generect-sync verify) on a large ledger: a simulator of --rows rows over
// three years, a scratch database filled by a real backfill, then the sweep alone, timed, at zero
// latency and at --latency ms per request. Usage (after npm run build):
//   DATABASE_URL=postgres://admin@host/db node dist/bench/sweep.js [--rows 1000000] [--latency 50]
import { parseArgs } from "node:util";
import { GenerectClient } from "../api/client.js";
import { defaults } from "../config/index.js";
import { Database } from "../db/database.js";
import { readWatermarkSql } from "../db/sql/watermarks.js";
import { runSync } from "../job/run.js";
import { createLogger } from "../log.js";
import { sweep } from "../proofs/sweep.js";
import { startSimulator } from "../simulator/index.js";
import { asMicros } from "../time.js";
import { createScratchDatabase, startBenchServer } from "./database.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" }, latency: { type: "string", default: "50" } } });
const rows = Number(values.rows);
const token = "bench-sweep-token";
const say = (line: string) => process.stdout.write(`${line}\n`);

const server = await startBenchServer(process.env.DATABASE_URL, say);
const sim = await startSimulator({ token, rows, seed: 16 });
const db = await createScratchDatabase(server, "sweep");
try {
  const config = {
    ...defaults,
    apiToken: token,
    apiUrl: sim.url,
    account: "bench",
    databaseUrl: db.url,
    start: undefined,
    home: undefined,
    pushgatewayUrl: undefined,
    workerHttpPort: undefined,
  };
  const began = performance.now();
  await runSync({ config, databaseUrl: db.url, log: createLogger({ level: "warn" }), snapshots: false });
  say(`backfill of ${rows} rows: ${((performance.now() - began) / 1000).toFixed(1)} s`);
  const database = new Database(db.url);
  const { pool } = database;
  const watermark = asMicros(
    Number((await pool.query<{ watermark: string }>(readWatermarkSql, ["bench", "transactions"])).rows[0]!.watermark),
  );
  for (const latency of [0, Number(values.latency)]) {
    sim.faults.latencyMs = latency;
    const client = new GenerectClient({ baseUrl: sim.url, token, timeoutMs: 30_000, retries: 3 });
    const start = performance.now();
    const result = await sweep(pool, client, {
      account: "bench",
      watermark,
      start: undefined,
      spanMs: defaults.windowMs,
      concurrency: defaults.concurrency,
    });
    const seconds = (performance.now() - start) / 1000;
    say(
      `sweep at ${latency} ms latency, SYNC_WINDOW ${defaults.windowMs / 86_400_000}d, concurrency ${defaults.concurrency}: ` +
        `${result.windows} windows, ${result.apiRequests} requests, ${seconds.toFixed(2)} s, ${result.differing.length} differing`,
    );
  }
  await database.close();
} finally {
  await sim.close();
  await db.drop();
  await server.close();
}
