// Jest globalTeardown: stops the server chosen by test/global-setup.ts (container or embedded
// PostgreSQL) and removes its temporary data directory. A TEST_DATABASE_URL server is left alone.
// (The stop logic lives in the closure global-setup stored, so this file needs no imports.)

import type {} from "./global-setup.js"; // for the type of globalThis.__GENERECT_TEST_SERVER__

export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__GENERECT_TEST_SERVER__;
  if (!server) return;
  globalThis.__GENERECT_TEST_SERVER__ = undefined;
  await server.stop();
}
