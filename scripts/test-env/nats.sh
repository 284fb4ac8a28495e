#!/usr/bin/env bash
# NATS with JetStream (Debian's nats-server) on loopback, file storage under .test-env/nats.
source "$(dirname "$0")/lib.sh"
TE_SERVER=nats

install() {
  command -v nats-server >/dev/null 2>&1 || te_apt_install nats-server
}

healthy() { curl -fsS "http://127.0.0.1:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; }

start() {
  if ! healthy; then
    install
    mkdir -p "$TE_DIR/nats/jetstream"
    cat >"$TE_DIR/nats/nats.conf" <<CONF
listen: 127.0.0.1:$NATS_PORT
http: 127.0.0.1:$NATS_MONITOR_PORT
server_name: market-pipeline-test
max_payload: 1MB
jetstream {
  store_dir: "$TE_DIR/nats/jetstream"
  max_memory_store: 256MB
  max_file_store: 4GB
}
CONF
    te_log "starting nats-server on 127.0.0.1:$NATS_PORT"
    te_start_daemon nats nats-server -c "$TE_DIR/nats/nats.conf"
    for _ in $(seq 1 100); do healthy && break; sleep 0.1; done
    healthy || te_die "nats-server did not become healthy; see $TE_DIR/logs/nats.log"
  fi
  te_env nats "NATS_URL=nats://127.0.0.1:$NATS_PORT" "NATS_MONITOR_URL=http://127.0.0.1:$NATS_MONITOR_PORT"
}

stop() { te_stop_daemon nats; rm -f "$TE_DIR/env.d/nats.env"; }
status() { healthy && echo "nats: running on $NATS_PORT" || { echo "nats: stopped"; return 1; }; }

"${1:?usage: nats.sh install|start|stop|status}"
