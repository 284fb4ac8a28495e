#!/usr/bin/env bash
# Builds, from the Go module proxy, what the offline kind node image is made of besides
# Kubernetes itself: kind, containerd v2 (+ runc shim, ctr), crictl, the CNI plugins, coredns
# and pause, each once per version into the tools cache (see lib.sh). The Kubernetes binaries
# come from scripts/test-env/build-k8s-tools.sh --kind-node.
#
# Cold on 2 cores: kind ~75 s, containerd ~70 s, crictl ~30 s, CNI ~30 s, coredns ~130 s.
# Usage: build-tools.sh [COMPONENT...]   (kind containerd crictl cni coredns pause; default
#        all of them. Idempotent; prints nothing on stdout.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# go_install DIR NAME... -- ARGS: `go install ARGS` into a temporary GOBIN, then move the
# named binaries into DIR, so an interrupted build never leaves a half-filled folder that
# the next run would take as done.
go_install() {
  local dir=$1
  shift
  local names=()
  while [ "$1" != -- ]; do
    names+=("$1")
    shift
  done
  shift
  local name missing=0
  for name in "${names[@]}"; do [ -x "$dir/$name" ] || missing=1; done
  ((missing)) || return 0
  kind_log "building ${names[*]} (first run on this machine only)"
  local gobin
  gobin=$(mktemp -d)
  # Static binaries: they run in the node image whatever its libc.
  GOBIN="$gobin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$@"
  mkdir -p "$dir"
  for name in "${names[@]}"; do mv "$gobin/$name" "$dir/$name"; done
  rm -rf "$gobin"
}

wanted=" ${*:-kind containerd crictl cni coredns pause} "
want() { [[ $wanted == *" $1 "* ]]; }

want kind && go_install "$KIND_BIN_DIR" kind -- "sigs.k8s.io/kind@$KIND_VERSION"

# The snapshotters kind's base image leaves out too; overlayfs is the one it uses.
want containerd && go_install "$CONTAINERD_BIN_DIR" containerd containerd-shim-runc-v2 ctr -- \
  -tags "no_aufs no_btrfs no_devmapper no_zfs" \
  "github.com/containerd/containerd/v2/cmd/containerd@$KIND_CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$KIND_CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/ctr@$KIND_CONTAINERD_VERSION"

want crictl && go_install "$CRICTL_BIN_DIR" crictl -- "sigs.k8s.io/cri-tools/cmd/crictl@$KIND_CRICTL_VERSION"

# kind's four plus bridge (the other plain single-node choice).
cni=github.com/containernetworking/plugins/plugins
want cni && go_install "$CNI_BIN_DIR" host-local loopback ptp bridge portmap -- \
  "$cni/ipam/host-local@$KIND_CNI_PLUGINS_VERSION" "$cni/main/loopback@$KIND_CNI_PLUGINS_VERSION" \
  "$cni/main/ptp@$KIND_CNI_PLUGINS_VERSION" "$cni/main/bridge@$KIND_CNI_PLUGINS_VERSION" \
  "$cni/meta/portmap@$KIND_CNI_PLUGINS_VERSION"

want coredns && go_install "$COREDNS_BIN_DIR" coredns -- "github.com/coredns/coredns@$KIND_COREDNS_VERSION"

if want pause && [ ! -x "$PAUSE_BIN_DIR/pause" ]; then
  kind_log "building pause (tools/pause)"
  mkdir -p "$PAUSE_BIN_DIR"
  (cd "$kind_repo/tools/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$PAUSE_BIN_DIR/pause.tmp" .)
  mv "$PAUSE_BIN_DIR/pause.tmp" "$PAUSE_BIN_DIR/pause"
fi
