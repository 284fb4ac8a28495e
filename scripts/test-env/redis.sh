#!/usr/bin/env bash
# A Redis-protocol cache for tests: Debian's redis-server (7.0), the same protocol as the
# DragonflyDB of production (README "Latest-quote cache"), unprivileged, state under
# .test-env/redis, on loopback with a password (the bridge sends one in production too).
source "$(dirname "$0")/lib.sh"
TE_SERVER=redis

REDIS_PASSWORD=suho_test_password
REDIS_DATA="$TE_DIR/redis"

install() { command -v redis-server >/dev/null || te_apt_install redis-server; }

ready() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASSWORD" ping 2>/dev/null)" = PONG ]
}

start() {
  install
  mkdir -p "$REDIS_DATA"
  if ! ready; then
    te_port_open "$REDIS_PORT" && te_die "port $REDIS_PORT is taken by something else (set TE_REDIS_PORT)"
    te_log "starting redis-server on 127.0.0.1:$REDIS_PORT"
    # No persistence: the cache is rebuilt from the next values (as after a DragonflyDB restart).
    te_start_daemon redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DATA" \
      --requirepass "$REDIS_PASSWORD" --save '' --appendonly no --daemonize no --protected-mode yes \
      --logfile ''
    for _ in $(seq 1 100); do
      ready && break
      te_pid_alive redis || break
      sleep 0.1
    done
    ready || te_die "redis-server did not answer PING; see $TE_DIR/logs/redis.log"
  fi
  te_env redis REDIS_HOST=127.0.0.1 "REDIS_PORT=$REDIS_PORT" "REDIS_PASSWORD=$REDIS_PASSWORD"
}

stop() { te_stop_daemon redis; rm -f "$TE_DIR/env.d/redis.env"; }
status() { ready && echo "redis: running on $REDIS_PORT" || { echo "redis: stopped"; return 1; }; }

"${1:?usage: redis.sh install|start|stop|status}"
