# Shared by the scripts in scripts/kind/: versions, cache folders, logging.
# shellcheck shell=bash disable=SC2034  # sourced: the variables are for the scripts that source it
kind_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kind_repo=$(cd "$kind_here/../.." && pwd)
source "$kind_repo/scripts/test-env/versions.sh"
source "$kind_here/versions.sh"
source "$kind_repo/scripts/test-env/registry.sh"

# Every built binary lives outside the repository in the tools cache, one folder per
# component and version, so a fresh clone (CI) reuses them and a version bump rebuilds
# only what changed.
kind_tool_dir() { echo "$MP_TOOLS_CACHE/$1-$2/bin"; }
KIND_BIN_DIR=$(kind_tool_dir kind "$KIND_VERSION")
CONTAINERD_BIN_DIR=$(kind_tool_dir containerd "$KIND_CONTAINERD_VERSION")
CRICTL_BIN_DIR=$(kind_tool_dir crictl "$KIND_CRICTL_VERSION")
CNI_BIN_DIR=$(kind_tool_dir cni-plugins "$KIND_CNI_PLUGINS_VERSION")
COREDNS_BIN_DIR=$(kind_tool_dir coredns "$KIND_COREDNS_VERSION")
# pause is this repository's own few lines: keyed by their content.
PAUSE_BIN_DIR=$(kind_tool_dir pause "$(cat "$kind_repo/tools/pause/go.mod" "$kind_repo/tools/pause/main.go" | sha256sum | cut -c1-12)")
# kube-* , kubelet, kubeadm, kubectl, etcd: scripts/test-env/build-k8s-tools.sh's folder.
K8S_BIN_DIR="$MP_TOOLS_CACHE/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"

# kind_image_identity IMAGE: what identifies the content of a local image for a cache key:
# the images scripts' source label (the tarball it was imported from, keyed by its inputs),
# else the image id.
kind_image_identity() {
  local label
  label=$(docker image inspect -f '{{index .Config.Labels "mp.source"}}' "$1" 2>/dev/null) ||
    kind_die "image $1 is not in the engine"
  if [ -n "$label" ] && [ "$label" != "<no value>" ]; then echo "$1 $label"; else echo "$1 $(docker image inspect -f '{{.Id}}' "$1")"; fi
}

kind_log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
kind_die() {
  kind_log "error: $*"
  exit 1
}
