#!/usr/bin/env bash
# `make e2e-kind`: the end-to-end scenario (e2e/scenario.ts) on a throw-away kind cluster.
#
#   1. create the cluster (scripts/kind/cluster.sh): from the pinned upstream kindest/node
#      of e2e/kind/kind-config.yaml, or, where no container registry is reachable, from the
#      node image assembled here from the test environment's Kubernetes (scripts/kind/);
#   2. build the operator and workload images from this checkout (`make images`) and
#      `kind load` them (tag e2e-<commit>, pullPolicy Never: only the loaded images run),
#      together with every other image the chart will run that the engine has locally
#      (the dev servers' stand-ins where there is no registry);
#   3. `helm install` the chart with the dev NATS, TimescaleDB and ClickHouse (plus
#      E2E_HELM_VALUES);
#   4. run the scenario (jest, e2e/kind/scenario.e2e.ts): apply the simulator example, wait
#      for ticks in PostgreSQL and 5m bars in ClickHouse, change the pipeline, check it follows;
#   5. on failure, print and save the pods' logs, the events and the objects;
#   6. delete the cluster and put the host back as it was (KEEP_CLUSTER=1 keeps it).
#
# Needs Docker with a running engine (DOCKER_HOST as docker reads it), Go (kind is built
# from the Go module proxy), kubectl, helm and node with the npm dependencies installed.
# Settings: KIND_CLUSTER_NAME (market-pipeline-e2e), KIND_NODE_IMAGE_SOURCE (auto, offline,
# upstream; see scripts/kind/cluster.sh), KIND_DEBIAN_IMAGE (offline only),
# IMAGE_REGISTRY (ghcr.io/suho), E2E_HELM_VALUES (extra values files, space-separated;
# offline, by default the dev servers' local stand-ins of scripts/images/dev-servers.sh),
# E2E_ARTIFACTS (a new temporary folder), KEEP_CLUSTER.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/tools/node-env.sh # the project's Node (.nvmrc), also when run by hand
source scripts/kind/lib.sh

CLUSTER=${KIND_CLUSTER_NAME:-market-pipeline-e2e}
NAMESPACE=market-pipeline
RELEASE=market-pipeline
REGISTRY=${IMAGE_REGISTRY:-ghcr.io/suho}
TAG=e2e-$(git rev-parse --short HEAD 2>/dev/null || date +%s)
OPERATOR_IMAGE=$REGISTRY/market-pipeline-operator:$TAG
WORKLOADS_REPOSITORY=$REGISTRY/market-pipeline-workloads
WORKLOADS_IMAGE=$WORKLOADS_REPOSITORY:$TAG
ARTIFACTS=${E2E_ARTIFACTS:-$(mktemp -d -t market-pipeline-e2e-kind.XXXXXX)}
read -r -a extra_values <<<"${E2E_HELM_VALUES:-}"

log() { printf '\n==> [%4d s] %s\n' "$SECONDS" "$*"; }
die() {
  printf 'e2e-kind: %s\n' "$*" >&2
  exit 1
}

# kind is built from the Go module proxy (scripts/kind/build-tools.sh); kubectl and helm are
# the test environment's where it has built them, else the user's.
export PATH=$KIND_BIN_DIR:$K8S_BIN_DIR:$PATH
missing=()
for tool in docker go kubectl helm node; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  die "missing: ${missing[*]}. make e2e-kind needs Docker (with a running engine), Go, kubectl, helm and node.
Without Docker, \`make e2e\` runs the same scenario on the local test servers (no kubelet needed)."
fi
# The engine: the caller's (DOCKER_HOST, or the default socket when it answers), else the
# test environment's own, started here (scripts/test-env/docker.sh), as `make images` does.
source scripts/images/lib.sh
im_engine
[ -d node_modules ] || die "node_modules is missing: run \`make deps\` first"
for file in "${extra_values[@]}"; do [ -f "$file" ] || die "E2E_HELM_VALUES: no file $file"; done
bash scripts/kind/build-tools.sh kind
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  die "a kind cluster named $CLUSTER exists already; delete it (scripts/kind/cluster.sh delete $CLUSTER) or set KIND_CLUSTER_NAME"
fi

mkdir -p "$ARTIFACTS"
# The cluster's credentials go to a file of this run, never into the user's ~/.kube/config.
export KUBECONFIG=$ARTIFACTS/kubeconfig

# dump: what a failed run leaves to read, on the terminal (tails) and in $ARTIFACTS (all).
dump() {
  local dir=$ARTIFACTS/failure pod
  mkdir -p "$dir/logs"
  log "failure: cluster state (all of it in $dir)"
  kubectl get mpl,deployments,replicasets,cronjobs,jobs,pods,services,configmaps -A -o wide >"$dir/objects.txt" 2>&1 || true
  kubectl describe mpl -n "$NAMESPACE" >"$dir/marketpipelines.txt" 2>&1 || true
  kubectl describe pods -n "$NAMESPACE" >"$dir/pods.txt" 2>&1 || true
  kubectl get mpl,deployments,cronjobs,jobs,pods -n "$NAMESPACE" -o wide 2>&1 || true
  kubectl describe mpl -n "$NAMESPACE" 2>&1 | sed -n '/Status:/,$p' || true
  kubectl get events -A --sort-by=.lastTimestamp >"$dir/events.txt" 2>&1 || true
  log "events (last 40)"
  tail -n 40 "$dir/events.txt" || true
  for pod in $(kubectl get pods -n "$NAMESPACE" -o name 2>/dev/null); do
    pod=${pod#pod/}
    kubectl logs -n "$NAMESPACE" "$pod" --all-containers --prefix >"$dir/logs/$pod.log" 2>&1 || true
    kubectl logs -n "$NAMESPACE" "$pod" --all-containers --prefix --previous >"$dir/logs/$pod.previous.log" 2>/dev/null ||
      rm -f "$dir/logs/$pod.previous.log"
    log "logs of $pod (last 25 lines)"
    tail -n 25 "$dir/logs/$pod.log" || true
  done
  kind export logs "$dir/kind" --name "$CLUSTER" >/dev/null 2>&1 || true
}

cleanup() {
  local status=$?
  trap - EXIT
  set +e
  ((status == 0)) || dump
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    log "keeping cluster $CLUSTER (KUBECONFIG=$KUBECONFIG); delete it with: scripts/kind/cluster.sh delete $CLUSTER"
  else
    log "deleting cluster $CLUSTER"
    bash scripts/kind/cluster.sh delete "$CLUSTER"
  fi
  if ((status == 0)); then log "e2e-kind passed"; else log "e2e-kind FAILED (artifacts: $ARTIFACTS)"; fi
  exit "$status"
}
trap cleanup EXIT

log "creating kind cluster $CLUSTER (node image: $(bash scripts/kind/cluster.sh source))"
bash scripts/kind/cluster.sh create "$CLUSTER" "$KUBECONFIG"

# Without a registry the dev servers' upstream images cannot be pulled: build the
# stand-ins here (scripts/images/dev-servers.sh, `make dev-images`) and use their values,
# unless E2E_HELM_VALUES says otherwise.
if ((${#extra_values[@]} == 0)) && [ "$(bash scripts/kind/cluster.sh source)" = offline ] &&
  [ -x scripts/images/dev-servers.sh ]; then
  log "building the dev servers' stand-ins (scripts/images/dev-servers.sh)"
  scripts/images/dev-servers.sh nats timescaledb clickhouse >/dev/null
  extra_values=("${TE_DIR:-.test-env}/dev-images.yaml")
fi

log "building $OPERATOR_IMAGE and $WORKLOADS_IMAGE (make images)"
make --no-print-directory images IMAGE_REGISTRY="$REGISTRY" IMAGE_TAG="$TAG"

helm_args=(--namespace "$NAMESPACE"
  --set image.repository="$REGISTRY/market-pipeline-operator" --set image.tag="$TAG"
  --set image.pullPolicy=Never
  --set dev.nats.enabled=true --set dev.timescaledb.enabled=true --set dev.clickhouse.enabled=true)
for file in "${extra_values[@]}"; do helm_args+=(-f "$file"); done

# Every image the release will run that the engine has: ours, and the dev servers' where
# they were built locally (no registry). Images the engine lacks are pulled by the node.
mapfile -t chart_images < <(helm template "$RELEASE" helm/market-pipeline "${helm_args[@]}" |
  sed -n 's/^ *image: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' | sort -u)
load=("$WORKLOADS_IMAGE")
for image in "${chart_images[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 && load+=("$image")
done
log "loading into the cluster: ${load[*]}"
kind load docker-image --name "$CLUSTER" "${load[@]}"

log "installing the chart with the dev servers into namespace $NAMESPACE"
helm install "$RELEASE" helm/market-pipeline "${helm_args[@]}" --create-namespace --wait --timeout 10m
kubectl wait -n "$NAMESPACE" deployment --all --for=condition=Available --timeout=5m
log "helm test: the chart's hook pod checks the operator answers on its Service"
helm test "$RELEASE" --namespace "$NAMESPACE" --timeout 3m --logs

log "running the scenario (e2e/scenario.ts)"
E2E_NAMESPACE=$NAMESPACE E2E_WORKLOADS_REPOSITORY=$WORKLOADS_REPOSITORY E2E_IMAGE_TAG=$TAG \
  node --experimental-vm-modules node_modules/jest/bin/jest.js --config e2e/kind/jest.config.js --runInBand \
  ${E2E_JEST_REPORT:+--json --outputFile="$E2E_JEST_REPORT"}
