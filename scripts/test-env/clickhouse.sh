#!/usr/bin/env bash
# ClickHouse for tests: the real ClickHouse engine (chDB, the npm package `chdb` installed in the adapter's folder) behind ClickHouse's
# HTTP interface (test/support/clickhouse-server/server.mjs) on loopback, data under
# .test-env/clickhouse. Production uses a real ClickHouse server; Debian only packages 18.16.
source "$(dirname "$0")/lib.sh"
TE_SERVER=clickhouse

CH_USER=default
CH_PASSWORD=suho_test_password
CH_DATABASE=suho_analytics
CH_DATA="$TE_DIR/clickhouse/data"
CH_SERVER="$TE_REPO/test/support/clickhouse-server/server.mjs"

CH_PACKAGE="$TE_REPO/test/support/clickhouse-server"

# The engine (npm chdb) is installed in the adapter's own folder, not in the product's
# dependencies: chdb lists platform packages the registry does not serve, which would make
# the product's lock file fail `npm ci`. `npm install` honours the folder's lock file.
install() {
  (cd "$CH_PACKAGE" && node -e "require('chdb')" >/dev/null 2>&1) && return 0
  te_log "installing the ClickHouse engine (npm chdb) into $CH_PACKAGE"
  (cd "$CH_PACKAGE" && npm install --no-audit --no-fund --loglevel=error >"$TE_DIR/logs/clickhouse-install.log" 2>&1) ||
    te_die "npm install of chdb failed; see $TE_DIR/logs/clickhouse-install.log"
  (cd "$CH_PACKAGE" && node -e "require('chdb')" >/dev/null 2>&1) ||
    te_die "the npm package chdb (ClickHouse engine) does not load after installing it"
}

healthy() { [ "$(curl -fsS "http://127.0.0.1:$CLICKHOUSE_PORT/ping" 2>/dev/null)" = "Ok." ]; }

start() {
  if ! healthy; then
    install
    mkdir -p "$CH_DATA"
    te_log "starting ClickHouse (chDB over HTTP) on 127.0.0.1:$CLICKHOUSE_PORT"
    te_start_daemon clickhouse env TZ=UTC "CLICKHOUSE_PORT=$CLICKHOUSE_PORT" "CLICKHOUSE_DATA_DIR=$CH_DATA" \
      "CLICKHOUSE_USER=$CH_USER" "CLICKHOUSE_PASSWORD=$CH_PASSWORD" node "$CH_SERVER"
    for _ in $(seq 1 300); do
      healthy && break
      te_pid_alive clickhouse || break
      sleep 0.1
    done
    healthy || te_die "ClickHouse did not answer /ping; see $TE_DIR/logs/clickhouse.log"
  fi
  curl -sS --fail-with-body -u "$CH_USER:$CH_PASSWORD" --data-binary "CREATE DATABASE IF NOT EXISTS $CH_DATABASE" \
    "http://127.0.0.1:$CLICKHOUSE_PORT/" >/dev/null || te_die "could not create database $CH_DATABASE"
  te_env clickhouse CLICKHOUSE_HOST=127.0.0.1 "CLICKHOUSE_PORT=$CLICKHOUSE_PORT" "CLICKHOUSE_DATABASE=$CH_DATABASE" \
    "CLICKHOUSE_USER=$CH_USER" "CLICKHOUSE_PASSWORD=$CH_PASSWORD" "CLICKHOUSE_URL=http://127.0.0.1:$CLICKHOUSE_PORT"
}

stop() { te_stop_daemon clickhouse; rm -f "$TE_DIR/env.d/clickhouse.env"; }
status() { healthy && echo "clickhouse: running on $CLICKHOUSE_PORT" || { echo "clickhouse: stopped"; return 1; }; }

"${1:?usage: clickhouse.sh install|start|stop|status}"
