#!/usr/bin/env bash
# A Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager,
# built from source by build-k8s-tools.sh (no kubelet, so pods stay Pending). State in
# .test-env/kube: pki (a small CA, serving cert, service-account keys, static tokens),
# etcd data, and the admin kubeconfig that the env fragment points KUBECONFIG at.
#
# Usage: kube.sh install|start|stop|status
source "$(dirname "$0")/lib.sh"
TE_SERVER=kube



BIN_DIR="$MP_TOOLS_CACHE/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"
KUBE_DIR="$TE_DIR/kube"
PKI="$KUBE_DIR/pki"
KUBECONFIG_FILE="$KUBE_DIR/kubeconfig"
KCM_KUBECONFIG="$KUBE_DIR/kube-controller-manager.kubeconfig"
SERVICE_CIDR=10.0.0.0/24
TOOLS=(etcd kube-apiserver kube-controller-manager kubectl helm)
# All on-by-default controllers (39 in v1.36). With nothing more to configure, the manager
# itself skips the cloud ones (no --cloud-provider), node-ipam (no --allocate-node-cidrs)
# and the feature-gated ones; the node-only ones (node lifecycle, attach/detach, TTL...)
# run idle since there are no Nodes. `curl https://127.0.0.1:$KCM_PORT/healthz?verbose`
# lists the ones running.
KCM_CONTROLLERS="*"

have_tools() {
  local t
  for t in "${TOOLS[@]}"; do [ -x "$BIN_DIR/$t" ] || return 1; done
}

# install: build the binaries (first run on a machine only: about 12 minutes on 2 cores;
# afterwards build-k8s-tools.sh returns at once).
install() {
  have_tools || te_log "building the Kubernetes binaries into $BIN_DIR (first run on this machine only)"
  local out
  out=$("$TE_SCRIPTS/build-k8s-tools.sh" | tail -n 1)
  [ "$out" = "$BIN_DIR" ] || te_die "build-k8s-tools.sh printed '$out', expected '$BIN_DIR'"
  have_tools || te_die "build-k8s-tools.sh finished but binaries are missing in $BIN_DIR"
}

token() { cat "$PKI/$1.token"; }

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

apiserver_ready() {
  [ -f "$PKI/admin.token" ] && [ -f "$PKI/ca.crt" ] || return 1
  curl -fsS --max-time 3 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(token admin)" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null | grep -qx ok
}

kcm_healthy() {
  [ -f "$PKI/ca.crt" ] || return 1
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null | grep -qx ok
}

# wait_for CHECK SECONDS NAME LOG: poll CHECK every 0.2 s; on timeout show the log's tail.
wait_for() {
  local check=$1 secs=$2 name=$3 log=$4
  for _ in $(seq 1 $((secs * 5))); do
    "$check" && return 0
    te_pid_alive "$log" || break
    sleep 0.2
  done
  "$check" && return 0
  tail -n 30 "$TE_DIR/logs/$log.log" >&2 || true
  te_die "$name did not become healthy within ${secs}s; see $TE_DIR/logs/$log.log"
}

# free_port PORT NAME: a port held by something we did not start is an error, not a retry.
free_port() {
  te_port_open "$1" && te_die "$2 is not healthy but 127.0.0.1:$1 is in use by another process"
  return 0
}

# Once: CA, serving cert (also used by kube-controller-manager), SA key pair, tokens.
ensure_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [ ! -s "$PKI/ca.crt" ]; then
    te_log "generating a CA and certificates in $PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=market-pipeline-test-ca" \
      -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    rm -f "$PKI/serving.crt"
  fi
  if [ ! -s "$PKI/serving.crt" ]; then
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=kube-apiserver" \
      -keyout "$PKI/serving.key" -out "$PKI/serving.csr" 2>/dev/null
    # 10.0.0.1 is the `kubernetes` Service's ClusterIP (first address of SERVICE_CIDR).
    openssl x509 -req -sha256 -days 3650 -in "$PKI/serving.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
      -CAcreateserial -out "$PKI/serving.crt" -extfile <(printf '%s\n' \
        "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local") \
      2>/dev/null
    rm -f "$PKI/serving.csr"
  fi
  # The aggregation layer's front proxy, as kubeadm sets it up: its own CA and a client
  # cert. The API server publishes this CA in kube-system/extension-apiserver-authentication,
  # where kube-controller-manager (and any aggregated API server) expects to find it.
  if [ ! -s "$PKI/front-proxy-ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=market-pipeline-test-front-proxy-ca" \
      -keyout "$PKI/front-proxy-ca.key" -out "$PKI/front-proxy-ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    rm -f "$PKI/front-proxy-client.crt"
  fi
  if [ ! -s "$PKI/front-proxy-client.crt" ]; then
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=front-proxy-client" \
      -keyout "$PKI/front-proxy-client.key" -out "$PKI/front-proxy-client.csr" 2>/dev/null
    openssl x509 -req -sha256 -days 3650 -in "$PKI/front-proxy-client.csr" -CA "$PKI/front-proxy-ca.crt" \
      -CAkey "$PKI/front-proxy-ca.key" -CAcreateserial -out "$PKI/front-proxy-client.crt" \
      -extfile <(printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=clientAuth") 2>/dev/null
    rm -f "$PKI/front-proxy-client.csr"
  fi
  if [ ! -s "$PKI/sa.pub" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  local who
  for who in admin kube-controller-manager; do
    [ -s "$PKI/$who.token" ] || (umask 077 && openssl rand -hex 24 >"$PKI/$who.token")
  done
  # token,user,uid,"group1,group2": the admin is a cluster-admin through system:masters;
  # the controller manager is the user its bootstrap ClusterRole(Binding)s are made for.
  (
    umask 077
    echo "$(token admin),admin,admin-uid,\"system:masters\""
    echo "$(token kube-controller-manager),system:kube-controller-manager,kcm-uid"
  ) >"$PKI/tokens.csv.tmp"
  chmod 600 "$PKI/tokens.csv.tmp"
  mv "$PKI/tokens.csv.tmp" "$PKI/tokens.csv"
  chmod 600 "$PKI"/*.token
}

# write_kubeconfig FILE USER TOKEN
write_kubeconfig() {
  local file=$1 user=$2 tok=$3
  cat >"$file.tmp" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: market-pipeline-test
    cluster:
      server: https://127.0.0.1:$APISERVER_PORT
      certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
  - name: $user
    user:
      token: $tok
contexts:
  - name: $user@market-pipeline-test
    context:
      cluster: market-pipeline-test
      user: $user
      namespace: default
current-context: $user@market-pipeline-test
YAML
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

start_etcd() {
  free_port "$ETCD_PORT" etcd
  free_port "$ETCD_PEER_PORT" "etcd (peer port)"
  mkdir -p "$KUBE_DIR/etcd"
  chmod 700 "$KUBE_DIR/etcd"
  te_log "starting etcd on 127.0.0.1:$ETCD_PORT"
  te_start_daemon etcd "$BIN_DIR/etcd" \
    --name=test --data-dir="$KUBE_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="test=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --log-level=warn
  wait_for etcd_healthy 30 etcd etcd
}

start_apiserver() {
  free_port "$APISERVER_PORT" kube-apiserver
  te_log "starting kube-apiserver on 127.0.0.1:$APISERVER_PORT"
  # Default admission plugins (ServiceAccount included): the controller manager creates the
  # `default` ServiceAccounts, so pods are admitted as on a real cluster.
  te_start_daemon kube-apiserver "$BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
    --client-ca-file="$PKI/ca.crt" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --token-auth-file="$PKI/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --enable-priority-and-fairness=true \
    --profiling=false
  wait_for apiserver_ready 120 kube-apiserver kube-apiserver
}

start_kcm() {
  free_port "$KCM_PORT" kube-controller-manager
  mkdir -p "$KUBE_DIR/flexvolume"
  write_kubeconfig "$KCM_KUBECONFIG" system:kube-controller-manager "$(token kube-controller-manager)"
  te_log "starting kube-controller-manager (health on 127.0.0.1:$KCM_PORT)"
  # --use-service-account-credentials: each controller acts as its own ServiceAccount in
  # kube-system, with the bootstrap RBAC roles, as on a kubeadm cluster.
  te_start_daemon kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$KCM_KUBECONFIG" \
    --authentication-kubeconfig="$KCM_KUBECONFIG" --authorization-kubeconfig="$KCM_KUBECONFIG" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --controllers="$KCM_CONTROLLERS" \
    --leader-elect=false \
    --flex-volume-plugin-dir="$KUBE_DIR/flexvolume" \
    --profiling=false
  wait_for kcm_healthy 60 kube-controller-manager kube-controller-manager
}

start() {
  # One start at a time (up.sh may race a manual call). The daemons must not inherit the
  # lock's descriptor (they would hold the lock for as long as they run), hence `9>&-`.
  exec 9>"$TE_DIR/run/kube.lock"
  flock -w 600 9 || te_die "another 'kube.sh start' has held $TE_DIR/run/kube.lock for 10 minutes"
  if ! { etcd_healthy && apiserver_ready && kcm_healthy; }; then
    install 9>&-
    ensure_pki
    if ! etcd_healthy; then te_stop_daemon etcd; start_etcd 9>&-; fi
    if ! apiserver_ready; then te_stop_daemon kube-apiserver; start_apiserver 9>&-; fi
    if ! kcm_healthy; then te_stop_daemon kube-controller-manager; start_kcm 9>&-; fi
  fi
  write_kubeconfig "$KUBECONFIG_FILE" admin "$(token admin)"
  # promtool for the chart's alert-rule tests, which run with the other chart tests (a
  # no-op once built: the first run on a machine takes a few minutes).
  local promtool
  promtool=$("$TE_SCRIPTS/build-promtool.sh" 9>&- | tail -n 1)
  [ -x "$promtool" ] || te_die "build-promtool.sh printed '$promtool', not an executable"
  te_env kube "KUBECONFIG=$KUBECONFIG_FILE" "K8S_BIN_DIR=$BIN_DIR" "PROMTOOL=$promtool"
}

stop() {
  te_stop_daemon kube-controller-manager
  te_stop_daemon kube-apiserver
  te_stop_daemon etcd
  rm -f "$TE_DIR/env.d/kube.env"
}

status() {
  local ok=0
  etcd_healthy && echo "etcd: running on $ETCD_PORT" || { echo "etcd: stopped"; ok=1; }
  apiserver_ready && echo "kube-apiserver: ready on https://127.0.0.1:$APISERVER_PORT" ||
    { echo "kube-apiserver: stopped"; ok=1; }
  kcm_healthy && echo "kube-controller-manager: healthy on $KCM_PORT" ||
    { echo "kube-controller-manager: stopped"; ok=1; }
  return $ok
}

"${1:?usage: kube.sh install|start|stop|status}"
