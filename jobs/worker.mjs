#!/usr/bin/env node
// Entrypoint of the "worker" job: `generect-sync worker` with configuration from the environment.
// Schedules and manifests: jobs/kubernetes/. Built output (dist/) comes from `npm ci`.
import { runCommand } from "./entry.mjs";

await runCommand("worker");
