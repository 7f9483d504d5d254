#!/usr/bin/env node
// Entrypoint of the "sync" job: `generect-sync run` with configuration from the environment.
// Schedules and manifests: jobs/kubernetes/. Built output (dist/) comes from `npm ci`.
import { runCommand } from "./entry.mjs";

await runCommand("run");
