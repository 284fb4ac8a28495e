# Versions of the servers the test environment builds or downloads, in one place.
# Sourced by the scripts in this folder.
KUBE_VERSION=v1.36.3   # must match tools/k8s/go.mod
ETCD_VERSION=v3.6.16   # must match tools/etcd/go.mod
HELM_VERSION=v3.22.0
KAFKA_VERSION=4.3.1
# Built binaries and downloaded jars live outside the repository so that a fresh clone
# (as in CI) reuses them; delete this folder to force a rebuild.
MP_TOOLS_CACHE=${MP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/market-pipeline}
# The Node.js of the product, the images and the toolchain: one source, .nvmrc.
NODE_VERSION=$(tr -d ' \nv' <"$(dirname "${BASH_SOURCE[0]}")/../../.nvmrc")
# nats-server of the test environment and the chart's dev server: the current release.
NATS_VERSION=v2.15.3
# The oldest nats-server the product supports (README), for TE_NATS_VERSION=... make test.
NATS_OLDEST_VERSION=v2.11.17
# promtool checks and unit-tests the chart's alert rules: Prometheus 3.16.0's Go module.
PROMETHEUS_MODULE_VERSION=v0.316.0
