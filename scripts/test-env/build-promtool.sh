#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker and rule unit-test runner) from the Go module
# proxy into the tools cache, keyed by version, like nats-server and the Kubernetes
# binaries: the chart's PrometheusRule is checked with `promtool check rules` and unit-tested
# with `promtool test rules` (test/packaging/alerts.it.test.ts). About 3 minutes on 2 cores,
# once per machine and version. Prometheus publishes its Go module as v0.MAJORMINOR.PATCH
# (v0.316.0 is Prometheus 3.16.0).
#
# Usage: build-promtool.sh   (prints the binary's path on the last line; a no-op when it exists)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

dir="$MP_TOOLS_CACHE/promtool-$PROMETHEUS_MODULE_VERSION"
bin="$dir/promtool"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || {
    echo "[build-promtool] ERROR: go not found (needed once to build promtool)" >&2
    exit 1
  }
  echo "[build-promtool] building promtool $PROMETHEUS_MODULE_VERSION from the Go module proxy (once per machine)" >&2
  mkdir -p "$dir"
  gobin=$(mktemp -d "$dir/gobin.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  # The version stamp makes `promtool --version` say which Prometheus it checks rules as.
  minor=${PROMETHEUS_MODULE_VERSION#v0.}
  release="${minor:0:1}.$((10#${minor:1:2})).${PROMETHEUS_MODULE_VERSION##*.}"
  GOBIN="$gobin" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
  # A rename, so that a concurrent caller sees the binary complete or not at all.
  mv "$gobin/promtool" "$bin"
fi
echo "$bin"
