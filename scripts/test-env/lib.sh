# Helpers shared by the test-environment scripts. Sourced, not run.
# State (data, logs, pid files, connection settings) lives in <repo>/.test-env.
set -euo pipefail

TE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TE_REPO=$(cd "$TE_SCRIPTS/../.." && pwd)
TE_DIR=${TE_DIR:-$TE_REPO/.test-env}
source "$TE_SCRIPTS/versions.sh"
source "$TE_SCRIPTS/ports.sh"
# The project's Node for the servers that run on it (ClickHouse adapter) and its npm.
source "$TE_SCRIPTS/../tools/node-env.sh"
mkdir -p "$TE_DIR/logs" "$TE_DIR/run" "$TE_DIR/env.d"

te_log() { printf '[test-env %s] %s\n' "${TE_SERVER:-}" "$*" >&2; }
te_die() { te_log "ERROR: $*"; exit 1; }

# te_pid_alive NAME: true when the daemon NAME started by te_start_daemon still runs.
te_pid_alive() {
  local f="$TE_DIR/run/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# te_start_daemon NAME CMD...: start CMD detached (own session, survives the caller),
# output to .test-env/logs/NAME.log, pid in .test-env/run/NAME.pid.
te_start_daemon() {
  local name=$1; shift
  local logf="$TE_DIR/logs/$name.log"
  : >"$logf"
  setsid nohup "$@" >>"$logf" 2>&1 </dev/null &
  echo $! >"$TE_DIR/run/$name.pid"
}

# te_stop_daemon NAME [SECONDS]: SIGTERM, wait, then SIGKILL the whole process group.
te_stop_daemon() {
  local name=$1 grace=${2:-20} f="$TE_DIR/run/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# te_wait_port PORT SECONDS NAME: wait until something accepts TCP on 127.0.0.1:PORT.
te_wait_port() {
  local port=$1 secs=$2 name=$3
  for _ in $(seq 1 $((secs * 5))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  te_die "$name did not open port $port within ${secs}s; see $TE_DIR/logs/"
}

# te_port_open PORT: true when something listens on 127.0.0.1:PORT now.
te_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# te_env SERVER KEY=VALUE...: write this server's connection settings; up.sh joins
# the fragments into .test-env/env, a file a shell can source.
te_env() {
  local server=$1; shift
  local f="$TE_DIR/env.d/$server.env"
  : >"$f"
  local kv
  for kv in "$@"; do printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}" >>"$f"; done
}

# te_apt_install PKG...: install Debian packages that are missing (apt-get update once).
te_apt_install() {
  local missing=()
  local p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  te_log "installing Debian packages: ${missing[*]}"
  local sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  # up.sh starts the servers side by side, and on a fresh machine several of them install
  # packages at once: apt and dpkg take their locks without waiting, so the second install
  # would fail. One install at a time, across processes.
  (
    flock -w 900 9 || te_die "waited 15 min for another apt-get of the test environment"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ) 9>"${TMPDIR:-/tmp}/market-pipeline-apt.lock"
}
