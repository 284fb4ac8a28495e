#!/usr/bin/env bash
# PostgreSQL 15 (Debian) as an unprivileged cluster under .test-env/postgres, on loopback.
# TimescaleDB is not packaged for this machine; where the extension is installed, the
# schema uses it (see schemas/timescaledb), otherwise it applies on plain PostgreSQL.
source "$(dirname "$0")/lib.sh"
TE_SERVER=postgres

PG_USER=suho_service
PG_PASSWORD=suho_test_password
PG_DATABASE=suho_trading
PGDATA="$TE_DIR/postgres/data"
RUN_AS=()

pg_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  return 1
}

install() {
  pg_bin >/dev/null || te_apt_install postgresql-15 postgresql-client-15
}

# initdb refuses to run as root; run the server as the 'postgres' system user then.
setup_user() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown -R postgres "$TE_DIR/postgres"
    RUN_AS=(runuser -u postgres --)
    # The postgres user must be able to reach the cluster: a checkout under a private
    # directory (mktemp -d makes mode 700) gets search permission only (o+x, no listing).
    local dir=$TE_DIR
    while [ "$dir" != / ]; do
      if ! runuser -u postgres -- test -x "$dir"; then
        te_log "letting the postgres user pass through $dir (chmod o+x)"
        chmod o+x "$dir"
      fi
      dir=$(dirname "$dir")
    done
  fi
}

ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

start() {
  install
  local bin; bin=$(pg_bin)
  mkdir -p "$TE_DIR/postgres"
  setup_user
  if ! ready; then
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      te_log "initialising a cluster in $PGDATA"
      local pwfile="$TE_DIR/postgres/superuser.pw"
      echo "$PG_PASSWORD" >"$pwfile"
      [ ${#RUN_AS[@]} -gt 0 ] && chown postgres "$pwfile"
      "${RUN_AS[@]}" "$bin/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" -A scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$TE_DIR/logs/postgres-initdb.log" 2>&1
      cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$TE_DIR/postgres'
max_connections = 200
shared_buffers = 256MB
# A test server: speed over crash safety of the test data itself.
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    fi
    te_log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    "${RUN_AS[@]}" "$bin/pg_ctl" -D "$PGDATA" -l "$TE_DIR/postgres/postgres.log" -w -t 60 start >/dev/null
  fi
  ready || te_die "PostgreSQL did not become ready; see $TE_DIR/postgres/postgres.log"
  PGPASSWORD=$PG_PASSWORD psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL >/dev/null
SELECT 'CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD ''$PG_PASSWORD'''
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
SELECT 'CREATE DATABASE $PG_DATABASE OWNER $PG_USER'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE') \gexec
SQL
  te_env postgres TIMESCALEDB_HOST=127.0.0.1 "TIMESCALEDB_PORT=$PG_PORT" "TIMESCALEDB_DATABASE=$PG_DATABASE" \
    "TIMESCALEDB_USER=$PG_USER" "TIMESCALEDB_PASSWORD=$PG_PASSWORD"
}

stop() {
  if [ -s "$PGDATA/PG_VERSION" ] && ready; then
    setup_user
    "${RUN_AS[@]}" "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
  fi
  rm -f "$TE_DIR/env.d/postgres.env"
}
status() { ready && echo "postgres: running on $PG_PORT" || { echo "postgres: stopped"; return 1; }; }

"${1:?usage: postgres.sh install|start|stop|status}"
