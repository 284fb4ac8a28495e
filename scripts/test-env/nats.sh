#!/usr/bin/env bash
# NATS with JetStream on loopback, file storage under .test-env/nats. The server is the
# upstream release NATS_VERSION (versions.sh), built once into the tools cache by
# build-nats.sh. TE_NATS_VERSION=v2.X.Y runs another release instead, built the same way, e.g.
# the oldest one the product supports (NATS_OLDEST_VERSION): TE_NATS_VERSION=v2.11.17 make test.
source "$(dirname "$0")/lib.sh"
TE_SERVER=nats

NATS_WANT=${TE_NATS_VERSION:-$NATS_VERSION}
NATS_BIN=

install() { NATS_BIN=$("$TE_SCRIPTS/build-nats.sh" "$NATS_WANT"); }

healthy() { curl -fsS "http://127.0.0.1:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; }

# The version of the server that answers on the monitor port (/varz), e.g. 2.15.3.
running_version() {
  curl -fsS "http://127.0.0.1:$NATS_MONITOR_PORT/varz" 2>/dev/null | sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p'
}

start() {
  # A server of another version (an older checkout's, or TE_NATS_VERSION changed) is
  # replaced when it is ours; one that is not ours is an error, not silently tested against.
  if healthy && [ "$(running_version)" != "${NATS_WANT#v}" ]; then
    te_pid_alive nats ||
      te_die "a nats-server $(running_version) that is not ours answers on port $NATS_MONITOR_PORT (wanted ${NATS_WANT#v}; TE_NATS_PORT/TE_NATS_MONITOR_PORT choose others)"
    te_log "replacing nats-server $(running_version) with ${NATS_WANT#v}"
    te_stop_daemon nats
  fi
  install # also when it runs: the env names the binary, for the tests' private servers
  if ! healthy; then
    # JetStream data per server version: a store written by a newer server need not load in an
    # older one (TE_NATS_VERSION), and tests need none of it across versions.
    local store="$TE_DIR/nats/jetstream-$NATS_WANT"
    mkdir -p "$store"
    cat >"$TE_DIR/nats/nats.conf" <<CONF
listen: 127.0.0.1:$NATS_PORT
http: 127.0.0.1:$NATS_MONITOR_PORT
server_name: market-pipeline-test
max_payload: 1MB
jetstream {
  store_dir: "$store"
  max_memory_store: 256MB
  max_file_store: 4GB
}
CONF
    te_log "starting nats-server ${NATS_WANT#v} on 127.0.0.1:$NATS_PORT"
    te_start_daemon nats "$NATS_BIN" -c "$TE_DIR/nats/nats.conf"
    for _ in $(seq 1 100); do healthy && break; sleep 0.1; done
    healthy || te_die "nats-server did not become healthy; see $TE_DIR/logs/nats.log"
  fi
  # NATS_SERVER_BIN: the tests' private servers (test/support/private-nats.ts) run the same
  # binary, not whatever nats-server is on PATH (Debian's is 2.9).
  te_env nats "NATS_URL=nats://127.0.0.1:$NATS_PORT" "NATS_MONITOR_URL=http://127.0.0.1:$NATS_MONITOR_PORT" \
    "NATS_SERVER_BIN=$NATS_BIN"
}

stop() { te_stop_daemon nats; rm -f "$TE_DIR/env.d/nats.env"; }
status() { healthy && echo "nats: $(running_version) running on $NATS_PORT" || { echo "nats: stopped"; return 1; }; }

"${1:?usage: nats.sh install|start|stop|status}"
