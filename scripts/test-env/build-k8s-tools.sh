#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl, etcd and helm from the Go
# module proxy into a cache folder outside the repository, keyed by version, so that
# only the first run on a machine pays for the build (about 15 minutes on 2 cores).
#
# With --kind-node it also builds what a kind node runs besides those (kubelet, kubeadm,
# kube-scheduler, kube-proxy; about 4 more minutes cold, kubelet most of it), for the
# offline kind node image of scripts/kind/: the same module, version and flags, so the
# cluster runs exactly the test environment's Kubernetes.
#
# Usage: build-k8s-tools.sh [--kind-node]   (prints the bin folder on the last line)
set -euo pipefail
kind_node=0
[ "${1:-}" = --kind-node ] && kind_node=1

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/versions.sh"

bin_dir="$MP_TOOLS_CACHE/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"
mkdir -p "$bin_dir"

log() { printf '[build-k8s-tools] %s\n' "$*" >&2; }

kube_minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
# Without these ldflags /version reports v0.0.0 and Helm's kubeVersion checks break.
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$kube_minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$kube_minor"

build_kube() {
  local name=$1
  [ -x "$bin_dir/$name" ] && return 0
  log "building $name $KUBE_VERSION (first run on this machine only)"
  (cd "$repo/tools/k8s" && CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace \
    -ldflags "$kube_ldflags" -o "$bin_dir/$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
}

build_etcd() {
  [ -x "$bin_dir/etcd" ] && return 0
  log "building etcd $ETCD_VERSION"
  (cd "$repo/tools/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$bin_dir/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$bin_dir/etcd.tmp" "$bin_dir/etcd"
}

build_helm() {
  [ -x "$bin_dir/helm" ] && return 0
  log "building helm $HELM_VERSION"
  # helm's go.mod has no replace directives, so `go install pkg@version` works as is.
  # The ldflags stamp the version and make `helm template` assume our apiserver's version.
  local gobin; gobin=$(mktemp -d)
  GOBIN="$gobin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$gobin/helm" "$bin_dir/helm"
  rmdir "$gobin"
}

build_etcd
build_helm
build_kube kube-apiserver
build_kube kubectl
build_kube kube-controller-manager
if ((kind_node)); then
  build_kube kubeadm
  build_kube kubelet
  build_kube kube-scheduler
  build_kube kube-proxy
fi
echo "$bin_dir"
