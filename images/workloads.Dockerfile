# syntax=docker/dockerfile:1
# The workload image: one entry point, `market-pipeline <command>` (collector, bridge,
# aggregate, migrate, simulate, dashboard), the command the operator puts in every pod.
# Build from the repository root:
#   docker build -f images/workloads.Dockerfile -t ghcr.io/suho/market-pipeline-workloads:0.1.0 .
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# Compile TypeScript with every dependency (tsc and the types are dev dependencies).
FROM ${NODE_IMAGE} AS build
# Extra CA certificates (PEM text) npm must trust to reach its registry during the build,
# e.g. a TLS-inspecting proxy's. Declared in the build stages only, so it is in no layer
# or setting of the final image; empty (the default) changes nothing.
ARG EXTRA_CA_CERTS_PEM=""
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN if [ -n "$EXTRA_CA_CERTS_PEM" ]; then printf '%s\n' "$EXTRA_CA_CERTS_PEM" >/tmp/extra-ca.pem \
      && export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi \
 && npm ci --no-audit --no-fund \
 && rm -f /tmp/extra-ca.pem
COPY tsconfig.json tsconfig.build.json ./
COPY operator/src operator/src
COPY workloads/src workloads/src
RUN npm run build

# Production dependencies only, installed apart so no dev package reaches the final image.
FROM ${NODE_IMAGE} AS deps
ARG EXTRA_CA_CERTS_PEM=""
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN if [ -n "$EXTRA_CA_CERTS_PEM" ]; then printf '%s\n' "$EXTRA_CA_CERTS_PEM" >/tmp/extra-ca.pem \
      && export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && rm -f /tmp/extra-ca.pem

FROM ${NODE_IMAGE}
# tini as PID 1 (see images/market-pipeline): forwards SIGTERM to node and reaps.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY package.json ./
COPY --from=deps /src/node_modules node_modules
COPY bin bin
COPY --from=build /src/dist/workloads dist/workloads
# migrate finds schemas/ by walking up from dist/workloads/src/migrate: /app/schemas.
COPY schemas schemas
COPY images/market-pipeline /usr/local/bin/market-pipeline
# The node image's `node` user (uid/gid 1000), numeric so runAsNonRoot can verify it; the
# operator's pods run as the same uid (operator/src/render/pod.ts). Nothing is written
# outside /tmp, so the root file system can be read-only.
USER 1000:1000
ENTRYPOINT ["market-pipeline"]
CMD ["help"]
# Last: a new commit (REVISION) changes only this metadata, and every layer above stays cached.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="market-pipeline-workloads" \
      org.opencontainers.image.description="Workloads of the market-data pipeline: Polygon forex collector, NATS-to-database bridge, OHLCV aggregator, schema migration, Polygon simulator" \
      org.opencontainers.image.source="https://github.com/suho/market-pipeline" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
