#!/usr/bin/env bash
# Builds nats-server from the Go module proxy (github.com/nats-io/nats-server/v2, the
# upstream release) into the tools cache, keyed by version, like the Kubernetes binaries:
# Debian's package is 2.9.10 (2023), while users run 2.11 to 2.15. About 40 s on 2 cores,
# once per machine and version. The chart's dev NATS image is built from the same binary.
#
# Usage: build-nats.sh [vX.Y.Z]   (default NATS_VERSION of versions.sh, or TE_NATS_VERSION)
#        prints the binary's path on the last line; a no-op when it exists.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

version=${1:-${TE_NATS_VERSION:-$NATS_VERSION}}
[[ $version =~ ^v2\.[0-9]+\.[0-9]+$ ]] || {
  echo "[build-nats] ERROR: '$version' is not a nats-server release (vX.Y.Z)" >&2
  exit 1
}
dir="$MP_TOOLS_CACHE/nats-server-$version"
bin="$dir/nats-server"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || {
    echo "[build-nats] ERROR: go not found (needed once to build nats-server $version)" >&2
    exit 1
  }
  echo "[build-nats] building nats-server $version from the Go module proxy (once per machine)" >&2
  mkdir -p "$dir"
  gobin=$(mktemp -d "$dir/gobin.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  # -trimpath and no cgo: the same static binary as upstream's release build.
  GOBIN="$gobin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
    "github.com/nats-io/nats-server/v2@$version"
  # A rename, so that a concurrent caller sees the binary complete or not at all.
  mv "$gobin/nats-server" "$bin"
fi
echo "$bin"
