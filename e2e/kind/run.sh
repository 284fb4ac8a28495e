#!/usr/bin/env bash
# `make e2e-kind`: the end-to-end scenario (e2e/scenario.ts) on a throw-away kind cluster.
#
#   1. create the cluster from e2e/kind/kind-config.yaml (pinned kindest/node, Kubernetes 1.36);
#   2. build the operator and workload images from this checkout (images/*.Dockerfile) and
#      `kind load` them (tag e2e-<commit>, pullPolicy Never: only the loaded images run);
#   3. `helm install` the chart with the dev NATS, TimescaleDB and ClickHouse;
#   4. run the scenario (jest, e2e/kind/scenario.e2e.ts): apply the simulator example, wait
#      for ticks in PostgreSQL and 5m bars in ClickHouse, change the pipeline, check it follows;
#   5. on failure, print and save the pods' logs, the events and the objects;
#   6. delete the cluster (KEEP_CLUSTER=1 keeps it for a look around).
#
# Needs Docker with a running engine, kind v0.33.0+, kubectl, helm and node with the npm
# dependencies installed. Settings: KIND_CLUSTER_NAME (market-pipeline-e2e),
# IMAGE_REGISTRY (ghcr.io/suho), E2E_ARTIFACTS (a new temporary folder), KEEP_CLUSTER.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/tools/node-env.sh # the project's Node (.nvmrc), also when run by hand

CLUSTER=${KIND_CLUSTER_NAME:-market-pipeline-e2e}
NAMESPACE=market-pipeline
RELEASE=market-pipeline
REGISTRY=${IMAGE_REGISTRY:-ghcr.io/suho}
TAG=e2e-$(git rev-parse --short HEAD 2>/dev/null || date +%s)
OPERATOR_IMAGE=$REGISTRY/market-pipeline-operator:$TAG
WORKLOADS_REPOSITORY=$REGISTRY/market-pipeline-workloads
WORKLOADS_IMAGE=$WORKLOADS_REPOSITORY:$TAG
ARTIFACTS=${E2E_ARTIFACTS:-$(mktemp -d -t market-pipeline-e2e-kind.XXXXXX)}

log() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'e2e-kind: %s\n' "$*" >&2
  exit 1
}

missing=()
for tool in docker kind kubectl helm node; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  die "missing: ${missing[*]}. make e2e-kind needs Docker (with a running engine), kind v0.33.0+, kubectl, helm and node.
Without Docker, \`make e2e\` runs the same scenario on the local test servers (no kubelet needed)."
fi
docker info >/dev/null 2>&1 ||
  die "the Docker engine is not reachable (docker info failed). make e2e-kind needs a running Docker engine; \`make e2e\` runs the same scenario without one."
[ -d node_modules ] || die "node_modules is missing: run \`make deps\` first"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  die "a kind cluster named $CLUSTER exists already; delete it (kind delete cluster --name $CLUSTER) or set KIND_CLUSTER_NAME"
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
    log "keeping cluster $CLUSTER (KUBECONFIG=$KUBECONFIG); delete it with: kind delete cluster --name $CLUSTER"
  else
    log "deleting cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER"
  fi
  if ((status == 0)); then log "e2e-kind passed"; else log "e2e-kind FAILED (artifacts: $ARTIFACTS)"; fi
  exit "$status"
}
trap cleanup EXIT

log "creating kind cluster $CLUSTER (e2e/kind/kind-config.yaml)"
kind create cluster --name "$CLUSTER" --config e2e/kind/kind-config.yaml --wait 180s

log "building $OPERATOR_IMAGE and $WORKLOADS_IMAGE"
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
docker build -f images/operator.Dockerfile -t "$OPERATOR_IMAGE" --build-arg REVISION="$revision" .
docker build -f images/workloads.Dockerfile -t "$WORKLOADS_IMAGE" --build-arg REVISION="$revision" .
kind load docker-image --name "$CLUSTER" "$OPERATOR_IMAGE" "$WORKLOADS_IMAGE"

log "installing the chart with the dev servers into namespace $NAMESPACE"
helm install "$RELEASE" helm/market-pipeline --namespace "$NAMESPACE" --create-namespace \
  --set image.repository="$REGISTRY/market-pipeline-operator" --set image.tag="$TAG" \
  --set image.pullPolicy=Never \
  --set dev.nats.enabled=true --set dev.timescaledb.enabled=true --set dev.clickhouse.enabled=true \
  --wait --timeout 10m
kubectl wait -n "$NAMESPACE" deployment --all --for=condition=Available --timeout=5m

log "running the scenario (e2e/scenario.ts)"
E2E_NAMESPACE=$NAMESPACE E2E_WORKLOADS_REPOSITORY=$WORKLOADS_REPOSITORY E2E_IMAGE_TAG=$TAG \
  node --experimental-vm-modules node_modules/jest/bin/jest.js --config e2e/kind/jest.config.js --runInBand
