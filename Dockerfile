# syntax=docker/dockerfile:1
# cronwarden in a container: build with the dev dependencies, run a slim image as a non-root user.
#   docker build -t cronwarden .
#   docker run --rm -p 8000:8000 -e JWT_SECRET=... -v cronwarden-data:/var/lib/cronwarden cronwarden
# Stop it with enough time for the runs: `docker stop -t 90` (the default 10 s kills runs early).
# docker-compose.yml runs two nodes on PostgreSQL; docs/operations.md has the details.

FROM node:20-bookworm-slim AS build
# A C compiler for cronwarden-exec, which starts the run commands (docs/architecture.md); the runtime
# image needs none (bookworm's glibc in both).
RUN apt-get update \
  && apt-get install -y --no-install-recommends gcc libc6-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The build needs TypeScript; the runtime gets the pruned production tree.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# tini is PID 1: it hands SIGTERM to the daemon (which stops its runs itself) and reaps the
# orphaned grandchildren that pipelines leave behind.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system cronwarden \
  && useradd --system --gid cronwarden --home-dir /var/lib/cronwarden --shell /usr/sbin/nologin cronwarden \
  && install -d -o cronwarden -g cronwarden -m 0750 /var/lib/cronwarden
WORKDIR /opt/cronwarden
ENV NODE_ENV=production \
    PORT=8000 \
    CRONWARDEN_DATA_DIR=/var/lib/cronwarden \
    CRONWARDEN_CONFIG=/opt/cronwarden/config/cronwarden.yaml
# package.json: the daemon reads its version from it.
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY config ./config
COPY examples ./examples
# `docker exec <container> node scripts/token.mjs --sub ops --roles admin` mints a token.
COPY scripts ./scripts
USER cronwarden
# The embedded database (when DATABASE_URL is unset) and its lock file.
VOLUME /var/lib/cronwarden
EXPOSE 8000
# Liveness only: readiness (GET /health, database and scheduler) is for the load balancer. No curl
# in the slim image, so node's fetch asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--no-memory-reducer", "dist/main.js"]
