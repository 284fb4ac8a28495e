#!/usr/bin/env bash
# `make test-env`: install what is missing and start every test server on loopback, then
# write their connection settings to .test-env/env (a file a shell can source).
# Idempotent: servers already running are left as they are, so a second call is fast.
#
# Usage: up.sh [server...]   (default: all of them)
source "$(dirname "$0")/lib.sh"
TE_SERVER=up

# docker: the container engine for images and the kind cluster (make test runs make e2e-kind).
all=(nats postgres clickhouse redis kafka kube docker)
servers=("${@:-${all[@]}}")

# Start the servers side by side: the first run on a machine is dominated by the
# Kubernetes build and the Kafka download, which need not wait for each other.
declare -A pids
for s in "${servers[@]}"; do
  [ -x "$TE_SCRIPTS/$s.sh" ] || te_die "unknown server '$s' (known: ${all[*]})"
  ( "$TE_SCRIPTS/$s.sh" start 2>&1 | sed -u "s/^/[$s] /" >&2; exit "${PIPESTATUS[0]}" ) &
  pids[$s]=$!
done
failed=()
for s in "${servers[@]}"; do
  wait "${pids[$s]}" || failed+=("$s")
done
[ ${#failed[@]} -eq 0 ] || te_die "could not start: ${failed[*]} (logs in $TE_DIR/logs)"

# Join the fragments of every server that is up (not only the ones started now).
{
  echo "# Written by scripts/test-env/up.sh: settings of the local test servers."
  cat "$TE_DIR"/env.d/*.env
  if [ -f "$TE_DIR/env.d/kube.env" ]; then
    echo 'export PATH="$K8S_BIN_DIR:$PATH"'
  fi
} >"$TE_DIR/env.tmp"
mv "$TE_DIR/env.tmp" "$TE_DIR/env"
te_log "ready: ${servers[*]} (settings in $TE_DIR/env)"
