# syntax=docker/dockerfile:1
# Meditron CDS: one image, three apps. The command picks the app:
#   node dist/apps/gateway/src/main.js            (default)
#   node dist/apps/cds-hooks/src/main.js
#   node dist/apps/inference-proxy/src/main.js
#   node dist/libs/database/src/cli/migrate.js    (database migrations; the Helm chart runs it as a hook Job)
# Runs as uid 10001 on a read-only root filesystem; nothing is written outside /tmp.
# For reproducible builds pin the base image by digest: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:...
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN npm run build \
 && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /app
# jemalloc, preloaded by the chart (<app>.runtime.allocator, LD_PRELOAD) from one path on every architecture: with
# glibc's malloc cds-hooks kept 33-47 MB of freed memory in its heap (RSS 194-203 MB at 50 hooks/s); with jemalloc
# 171-174 MB (issue 17, bench/results-issue-17-allocator.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" /usr/local/lib/libjemalloc.so.2 \
 && test -e /usr/local/lib/libjemalloc.so.2
RUN groupadd --system --gid 10001 meditron \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin meditron
# Owned by root and not writable by the app user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
EXPOSE 8080 8081 8082
CMD ["node", "dist/apps/gateway/src/main.js"]
