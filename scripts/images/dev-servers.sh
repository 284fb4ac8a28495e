#!/usr/bin/env bash
# `make dev-images`: stand-ins for the chart's dev servers, built here where no container
# registry is reachable, under local names (the chart keeps its upstream images as defaults):
#   local/dev-nats         nats-server $NATS_VERSION (Go module proxy), FROM scratch
#   local/dev-timescaledb  PostgreSQL 15 from Debian with the official postgres entry point's contract
#   local/dev-clickhouse   TEST STAND-IN: the test environment's chDB engine behind ClickHouse's HTTP interface
#   local/dev-kafka        Kafka $KAFKA_VERSION jars from Maven Central on Debian's Java 17
#   local/dev-dragonfly    Debian's redis-server behind DragonflyDB's command and flags (the cache)
# Each is cached as a tar in $MP_TOOLS_CACHE/images/, keyed by the digest of what builds it.
#
# Usage: dev-servers.sh [nats|timescaledb|clickhouse|kafka|dragonfly ...]   (default: all five)
# Writes .test-env/dev-images.yaml, a values file for `helm install -f`, and prints the
# same as --set flags.
source "$(dirname "$0")/lib.sh"
IM_STEP=dev-servers
DEV="$IM_SCRIPTS/dev-servers"
TE_DIR=${TE_DIR:-$IM_REPO/.test-env}
values="$TE_DIR/dev-images.yaml"

all=(nats timescaledb clickhouse kafka dragonfly)
servers=("${@:-${all[@]}}")

im_engine
debian=$("$IM_SCRIPTS/debian-base.sh")
node=$("$IM_SCRIPTS/node-base.sh")
# What the local bases are made of: part of every stand-in's cache key.
bases_key="$(IM_PRINT=key "$IM_SCRIPTS/debian-base.sh") $(IM_PRINT=key "$IM_SCRIPTS/node-base.sh")"

# build_cached REPO TAG CONTEXT [docker build args...]: build CONTEXT (its Dockerfile) as
# REPO:TAG unless this engine or the tar cache already has that build.
build_cached() {
  local repo=$1 tag=$2 ctx=$3; shift 3
  local key tar t0=$SECONDS
  key=$( (cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$bases_key") | sha256sum | cut -c1-12)
  tar="$IM_CACHE/dev-${repo#local/dev-}-$tag-$key.tar"
  if ! im_have "$repo:$tag-$key"; then
    if [ -s "$tar" ]; then
      im_log "loading $tar"
      docker load -i "$tar" >/dev/null
    else
      im_log "building $repo:$tag"
      DOCKER_BUILDKIT=0 docker build -q --network host -t "$repo:$tag-$key" "$@" "$ctx" >/dev/null
      docker save -o "$tar.tmp" "$repo:$tag-$key" && mv "$tar.tmp" "$tar"
      im_prune_cache "$tar"
      im_log "$repo:$tag built in $((SECONDS - t0))s"
    fi
  fi
  docker tag "$repo:$tag-$key" "$repo:$tag"
  printf '%s %s %s\n' "$repo" "$tag" "$(docker image inspect -f '{{.Size}}' "$repo:$tag")" >>"$built"
}

ctx_root=$(mktemp -d)
built="$ctx_root/built"
trap 'rm -rf "$ctx_root"' EXIT

nats() {
  local bin="$MP_TOOLS_CACHE/nats-server-$NATS_VERSION/nats-server"
  if [ ! -x "$bin" ]; then
    if [ -x "$IM_REPO/scripts/test-env/build-nats.sh" ]; then
      "$IM_REPO/scripts/test-env/build-nats.sh"
    else
      im_log "building nats-server $NATS_VERSION from the Go module proxy"
      local gobin; gobin=$(mktemp -d)
      GOBIN=$gobin CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/nats-io/nats-server/v2@$NATS_VERSION"
      mkdir -p "$(dirname "$bin")" && mv "$gobin/nats-server" "$bin" && rmdir "$gobin"
    fi
  fi
  local ctx="$ctx_root/nats"
  mkdir -p "$ctx" && cp "$DEV/nats/Dockerfile" "$bin" "$ctx/"
  build_cached local/dev-nats "${NATS_VERSION#v}" "$ctx"
}

timescaledb() {
  build_cached local/dev-timescaledb pg15 "$DEV/timescaledb" --build-arg "BASE_IMAGE=$debian"
}

clickhouse() {
  local pkg="$IM_REPO/test/support/clickhouse-server" ctx="$ctx_root/clickhouse" version
  mkdir -p "$ctx"
  cp "$DEV/clickhouse/Dockerfile" "$DEV/clickhouse/clickhouse-client" "$pkg/package.json" "$pkg/package-lock.json" \
    "$pkg/server.mjs" "$pkg/errors.mjs" "$ctx/"
  version=$(node -p "require('$pkg/package.json').dependencies.chdb")
  EXTRA_CA_CERTS_PEM=$(im_extra_ca_pem) build_cached local/dev-clickhouse "chdb-$version" "$ctx" \
    --build-arg "NODE_IMAGE=$node" --build-arg EXTRA_CA_CERTS_PEM
}

kafka() {
  "$IM_REPO/scripts/test-env/kafka.sh" install
  local ctx="$ctx_root/kafka"
  mkdir -p "$ctx"
  cp "$DEV/kafka/Dockerfile" "$DEV/kafka/run" "$ctx/"
  cp -al "$MP_TOOLS_CACHE/kafka-$KAFKA_VERSION/libs" "$ctx/libs" 2>/dev/null ||
    cp -a "$MP_TOOLS_CACHE/kafka-$KAFKA_VERSION/libs" "$ctx/libs"
  build_cached local/dev-kafka "$KAFKA_VERSION" "$ctx" --build-arg "BASE_IMAGE=$debian"
}

dragonfly() {
  build_cached local/dev-dragonfly redis7 "$DEV/dragonfly" --build-arg "BASE_IMAGE=$debian"
}

for s in "${servers[@]}"; do
  case "$s" in
    nats | timescaledb | clickhouse | kafka | dragonfly) "$s" ;;
    *) im_die "unknown dev server '$s' (known: ${all[*]})" ;;
  esac
done

# The values the kind run passes to helm: pullPolicy Never, the images are loaded into
# the cluster (kind load docker-image), not pulled.
mkdir -p "$TE_DIR"
{
  echo "# Written by scripts/images/dev-servers.sh: the chart's dev servers as the stand-ins built here."
  echo "dev:"
  while read -r repo tag _; do
    printf '  %s:\n    image: { repository: %s, tag: "%s", pullPolicy: Never }\n' "${repo#local/dev-}" "$repo" "$tag"
  done <"$built"
} >"$values.tmp"
mv "$values.tmp" "$values"
im_log "values for helm: -f $values, or:"
while read -r repo tag size; do
  im_log "  ${repo} ${tag}: $((size / 1000000)) MB"
  x=${repo#local/dev-}
  echo "--set dev.$x.image.repository=$repo --set dev.$x.image.tag=$tag --set dev.$x.image.pullPolicy=Never"
done <"$built"
