#!/usr/bin/env bash
# Creates or deletes a kind cluster, from the upstream kindest/node image or from the
# offline node image built here (node-image.sh), and puts the host back as it was.
#
# Usage: cluster.sh create NAME KUBECONFIG
#        cluster.sh delete NAME
#        cluster.sh source          (prints offline or upstream: what create would use)
# Settings (environment):
#   KIND_NODE_IMAGE_SOURCE  auto (default) | offline | upstream. upstream: the pinned
#                           kindest/node of e2e/kind/kind-config.yaml (Docker with internet).
#                           offline: node-image.sh; auto: upstream when that image is in the
#                           engine or Docker Hub's registry answers, else offline.
#   KIND_DEBIAN_IMAGE       offline only: the local Debian image the node image starts from
#                           (default: DEBIAN_IMAGE, else scripts/images/debian-base.sh's).
#   DOCKER_HOST             the engine, as docker itself reads it.
# The cluster's credentials go to KUBECONFIG only, never to ~/.kube/config.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

upstream_config=$kind_repo/e2e/kind/kind-config.yaml
state_dir=${TMPDIR:-/tmp}/market-pipeline-kind

kind_cmd() {
  bash "$kind_here/build-tools.sh" kind
  "$KIND_BIN_DIR/kind" "$@"
}
kubectl_cmd() {
  if [ -x "$K8S_BIN_DIR/kubectl" ]; then "$K8S_BIN_DIR/kubectl" "$@"; else kubectl "$@"; fi
}

node_image_source() {
  local source=${KIND_NODE_IMAGE_SOURCE:-auto} upstream_image
  case $source in
    offline | upstream) echo "$source" ;;
    auto)
      upstream_image=$(sed -n 's/^ *image: *//p' "$upstream_config" | head -n1)
      # kindest/node lives on Docker Hub; where no registry answers (this project's
      # machines), the offline image is the only way.
      if docker image inspect "$upstream_image" >/dev/null 2>&1 || container_registry_reachable; then
        echo upstream
      else
        echo offline
      fi
      ;;
    *) kind_die "KIND_NODE_IMAGE_SOURCE must be auto, offline or upstream, not '$source'" ;;
  esac
}

create() {
  local name=$1 kubeconfig=$2 source config started=$SECONDS
  source=$(node_image_source)
  mkdir -p "$state_dir"
  bash "$kind_here/host-state.sh" record "$state_dir/$name.host-state"
  if [ "$source" = offline ]; then
    local debian_image=${KIND_DEBIAN_IMAGE:-${DEBIAN_IMAGE:-}} node_image
    if [ -z "$debian_image" ] && [ -x "$kind_repo/scripts/images/debian-base.sh" ]; then
      debian_image=$("$kind_repo/scripts/images/debian-base.sh")
    fi
    [ -n "$debian_image" ] || kind_die "the offline node image needs KIND_DEBIAN_IMAGE (the local Debian image)"
    node_image=$(bash "$kind_here/node-image.sh" "$debian_image")
    config=$state_dir/$name.kind-config.yaml
    sed -e "s|__NODE_IMAGE__|$node_image|" -e "s|__ETCD_TAG__|$KIND_ETCD_TAG|" \
      "$kind_here/kind-config.offline.yaml" >"$config"
    kind_log "creating cluster $name from the offline node image $node_image"
  else
    config=$upstream_config
    kind_log "creating cluster $name from the upstream node image of $config"
  fi
  local created=$SECONDS
  kind_cmd create cluster --name "$name" --config "$config" --kubeconfig "$kubeconfig" --wait 180s
  # With a static CNI config the node is Ready at once; cluster DNS comes about 40 s later,
  # and everything after this needs it.
  kubectl_cmd --kubeconfig "$kubeconfig" -n kube-system rollout status deploy/coredns --timeout=180s >&2
  kind_log "cluster $name ready: $((SECONDS - created)) s to create, $((SECONDS - started)) s in all"
}

delete() {
  local name=$1 started=$SECONDS
  kind_cmd delete cluster --name "$name"
  # The `kind` network (a bridge and a route on the host) is shared by every kind cluster:
  # removed with the last one.
  if [ -z "$(kind_cmd get clusters 2>/dev/null)" ] && docker network inspect kind >/dev/null 2>&1; then
    docker network rm kind >/dev/null
  fi
  bash "$kind_here/host-state.sh" restore "$state_dir/$name.host-state"
  rm -f "$state_dir/$name.kind-config.yaml"
  kind_log "cluster $name deleted in $((SECONDS - started)) s"
}

case "${1:-}" in
  create) create "${2:?usage: cluster.sh create NAME KUBECONFIG}" "${3:?usage: cluster.sh create NAME KUBECONFIG}" ;;
  delete) delete "${2:?usage: cluster.sh delete NAME}" ;;
  source) node_image_source ;;
  *)
    echo "usage: cluster.sh create NAME KUBECONFIG | delete NAME | source" >&2
    exit 2
    ;;
esac
