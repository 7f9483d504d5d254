#!/usr/bin/env -S node --max-semi-space-size=16 --max-old-space-size=512
// The built CLI (npm's `prepare` builds dist/ on install). The heap flags keep a backfill's peak RSS
// flat under 200 MB (V8 otherwise lets garbage grow its young and old generations to ~300 MB before
// collecting; the live data is a few pages): measured with `npm run bench` (README, Performance).
// The young generation is not smaller: at 4 MB every page waiting for its write was promoted, and
// the old generation's collections took a fifth of the CLI's CPU.
// The Node check comes first and alone: a static import of the CLI would be loaded (and fail on an
// old Node, with a misleading error) before any check could run.
import { requireSupportedNode } from "../dist/cli/node-version.js";

requireSupportedNode();
await import("../dist/cli/index.js");
