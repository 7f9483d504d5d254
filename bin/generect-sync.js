#!/usr/bin/env node
// The built CLI (npm's `prepare` builds dist/ on install).
import "../dist/cli/index.js";
