# syntax=docker/dockerfile:1
# Build stage: install everything, generate the Prisma client and compile TypeScript.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./

COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
# `npm ci` runs the `prepare` script: prisma generate (no engine download) + tsc into dist/.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# Final stage: production dependencies and the built output only, as a non-root user.
FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/prisma ./prisma
USER node
# Exec form: node is PID 1 and receives SIGTERM itself (the CLI handles it).
ENTRYPOINT ["node", "/app/bin/generect-sync.js"]
CMD ["run"]
