#!/usr/bin/env bash
# Proves a kind cluster does what the e2e needs, independently of the product: a pod from an
# image built locally and `kind load`ed (no registry), a 2-replica Deployment behind a
# Service reached by its DNS name from another pod (kube-proxy, CNI, coredns), and
# `kubectl exec` / `kubectl logs` from the host.
#
# Usage: smoke-test.sh NAME KUBECONFIG DEBIAN_IMAGE
set -euo pipefail
source "$(dirname "$0")/lib.sh"

name=${1:?usage: smoke-test.sh NAME KUBECONFIG DEBIAN_IMAGE}
export KUBECONFIG=${2:?usage: smoke-test.sh NAME KUBECONFIG DEBIAN_IMAGE}
debian_image=${3:?usage: smoke-test.sh NAME KUBECONFIG DEBIAN_IMAGE}
export PATH=$KIND_BIN_DIR:$K8S_BIN_DIR:$PATH
namespace=kind-smoke

# Debian + busybox (httpd, wget): small, and built from the Debian registry like the rest.
image=market-pipeline-kind-smoke:$(kind_image_identity "$debian_image" | sha256sum | cut -c1-12)
if ! docker image inspect "$image" >/dev/null 2>&1; then
  context=$(mktemp -d)
  printf '%s\n' "FROM $debian_image" \
    'RUN apt-get update && apt-get install -y --no-install-recommends busybox && rm -rf /var/lib/apt/lists/*' \
    >"$context/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q --network host -t "$image" "$context" >/dev/null
  rm -rf "$context"
fi
kind load docker-image --name "$name" "$image" >/dev/null

kubectl delete namespace "$namespace" --ignore-not-found --wait >/dev/null
kubectl create namespace "$namespace" >/dev/null
kubectl apply -n "$namespace" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: $image
          imagePullPolicy: Never
          command: [sh, -c, 'mkdir -p /www && hostname >/www/index.html && echo "serving \$(hostname)" && exec busybox httpd -f -vv -p 8080 -h /www']
          ports: [{ containerPort: 8080 }]
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: client
      image: $image
      imagePullPolicy: Never
      command: [sleep, infinity]
YAML
kubectl -n "$namespace" rollout status deploy/web --timeout=120s >/dev/null
kubectl -n "$namespace" wait pod/client --for=condition=Ready --timeout=120s >/dev/null

# Through the Service's DNS name, until both replicas have answered (kube-proxy balances).
declare -A answered=()
for _ in $(seq 40); do
  host=$(kubectl -n "$namespace" exec client -- busybox wget -qO- "http://web.$namespace.svc.cluster.local/")
  answered[$host]=1
  ((${#answered[@]} == 2)) && break
done
((${#answered[@]} == 2)) || kind_die "only ${!answered[*]} answered through Service web"
kind_log "Service web.$namespace.svc.cluster.local answered from both replicas: ${!answered[*]}"
pod=$(kubectl -n "$namespace" get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
kubectl -n "$namespace" logs "$pod" | grep -qx "serving $pod" || kind_die "kubectl logs $pod lacks its first line"
kind_log "kubectl exec and kubectl logs work"
kubectl delete namespace "$namespace" --wait=false >/dev/null
