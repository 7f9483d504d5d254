#!/usr/bin/env node
// Entrypoint of the "snapshot" job: `generect-sync snapshot` with configuration from the environment.
// Schedules and manifests: jobs/kubernetes/. Built output (dist/) comes from `npm ci`.
import { runCommand } from "./entry.mjs";

await runCommand("snapshot");
