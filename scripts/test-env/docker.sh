#!/usr/bin/env bash
# A container engine for the test environment (images, dev-server stand-ins, kind):
# Debian's docker.io with its containerd and runc, as root, with its own state, leaving
# the host's network setup alone (no iptables rules, no NAT, no docker0 bridge, no
# ip_forward change) and not using the host's /var/lib/docker or /run/docker.sock.
#
# Usage: docker.sh install|start|stop|status
#   install  apt-get docker.io containerd runc (the package's own service is not started);
#            build the runc shim when the kernel withholds CAP_SYS_RESOURCE
#   start    start containerd and dockerd (idempotent); write .test-env/env.d/docker.env
#            (DOCKER_HOST)
#   stop     stop dockerd and containerd, unmount what they leave, drop the env file
#   status   exit 0 when the engine answers
#
# Where things are:
#   .test-env/docker/           data: images and containers (data-root), containerd's
#                               content store, configs, logs
#   /run/mp-docker-<hash>/      sockets, dockerd's exec root and containerd's state.
#                               Not under .test-env: a unix socket path is limited to 108
#                               bytes, and dockerd creates sockets named by 64-hex ids
#                               under its exec root, so a checkout in a deep directory
#                               (mktemp -d in CI) would fail. <hash> is of .test-env's path,
#                               so two checkouts get two engines. .test-env/docker/run
#                               links to it.
#
# Runtime shim: where the kernel withholds CAP_SYS_RESOURCE from every process (CapBnd in
# /proc/self/status), runc cannot start a --privileged container or one with a negative
# oomScoreAdj; dockerd then runs containers through runc-shim/ (see main.go), which drops
# that capability from the spec and clamps oomScoreAdj to 0. Elsewhere plain runc is used.
source "$(dirname "$0")/lib.sh"
TE_SERVER=docker

DOCKER_STATE="$TE_DIR/docker"
DOCKER_RUN="/run/mp-docker-$(printf '%s' "$TE_DIR" | sha256sum | cut -c1-10)"
DOCKER_SOCK="$DOCKER_RUN/docker.sock"
CONTAINERD_SOCK="$DOCKER_RUN/containerd.sock"
SHIM_SRC="$TE_SCRIPTS/runc-shim"
SHIM_NAME=mp-runc-shim

# Debian's docker.io, not /usr/local/bin/docker or another client that may be on PATH:
# the daemon is Debian's, and its own client matches its API.
DOCKERD=/usr/sbin/dockerd
CONTAINERD=/usr/bin/containerd

need_root() { [ "$(id -u)" -eq 0 ] || te_die "the container engine runs as root (use sudo)"; }

# CAP_SYS_RESOURCE is capability 24.
kernel_lacks_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  (((0x$bnd >> 24 & 1) == 0))
}

shim_path() { echo "$MP_TOOLS_CACHE/runc-shim-$(cat "$SHIM_SRC"/go.mod "$SHIM_SRC"/*.go | sha256sum | cut -c1-12)/runc-shim"; }

build_shim() {
  local out; out=$(shim_path)
  [ -x "$out" ] && return 0
  command -v go >/dev/null || te_die "go not found (needed to build $SHIM_SRC)"
  te_log "building the runc shim into $out"
  mkdir -p "$(dirname "$out")"
  (cd "$SHIM_SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" .) && mv "$out.tmp" "$out"
}

cmd_install() {
  need_root
  local missing=() p
  for p in docker.io containerd runc; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    # The package would start its own dockerd (default data under /var/lib/docker, iptables
    # rules, docker0) through invoke-rc.d: forbid service starts while it installs.
    local policy=/usr/sbin/policy-rc.d added=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# Written by market-pipeline scripts/test-env/docker.sh during apt-get; removed after.\nexit 101\n' >"$policy"
      chmod +x "$policy"
      added=1
    fi
    te_apt_install "${missing[@]}" || { [ -n "$added" ] && rm -f "$policy"; exit 1; }
    [ -n "$added" ] && rm -f "$policy"
  fi
  if kernel_lacks_sys_resource; then build_shim; fi
}

engine_answers() { [ -S "$DOCKER_SOCK" ] && DOCKER_HOST="unix://$DOCKER_SOCK" timeout 10 docker version >/dev/null 2>&1; }
containerd_answers() { [ -S "$CONTAINERD_SOCK" ] && timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }

write_configs() {
  mkdir -p "$DOCKER_STATE/containerd" "$DOCKER_STATE/data" "$DOCKER_RUN"
  ln -sfn "$DOCKER_RUN" "$DOCKER_STATE/run"
  # containerd for dockerd only: no CRI plugin (kind nodes run their own containerd), and
  # every path explicit (the opt plugin would otherwise create /opt/containerd).
  cat >"$DOCKER_STATE/containerd/config.toml" <<EOF
# Written by scripts/test-env/docker.sh.
version = 2
root = "$DOCKER_STATE/containerd/root"
state = "$DOCKER_RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$DOCKER_STATE/containerd/opt"
EOF
  # No bridge, no iptables, no NAT, no ip_forward: the host's network stays as it is.
  # Containers use --network host or a user-defined network (kind makes its own).
  local runtime=
  if kernel_lacks_sys_resource; then
    build_shim
    runtime=$(printf ', "runtimes": {"%s": {"path": "%s"}}, "default-runtime": "%s"' "$SHIM_NAME" "$(shim_path)" "$SHIM_NAME")
  fi
  cat >"$DOCKER_STATE/daemon.json" <<EOF
{"iptables": false, "ip6tables": false, "ip-masq": false, "ip-forward": false, "bridge": "none",
 "storage-driver": "overlay2", "log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "2"}$runtime}
EOF
}

cmd_start() {
  need_root
  if engine_answers; then
    te_env docker "DOCKER_HOST=unix://$DOCKER_SOCK"
    return 0
  fi
  cmd_install
  write_configs
  # kind mounts /lib/modules from the host; docker creates a missing bind source. Note
  # whether it exists now, so stop can remove what docker created.
  [ -e /lib/modules ] || touch "$DOCKER_STATE/lib-modules-absent"
  if ! containerd_answers; then
    te_log "starting containerd ($CONTAINERD_SOCK)"
    te_start_daemon containerd "$CONTAINERD" --config "$DOCKER_STATE/containerd/config.toml"
    for _ in $(seq 1 100); do containerd_answers && break; te_pid_alive containerd || break; sleep 0.1; done
    containerd_answers || te_die "containerd did not start; see $TE_DIR/logs/containerd.log"
  fi
  te_log "starting dockerd ($DOCKER_SOCK)"
  te_start_daemon dockerd "$DOCKERD" --config-file "$DOCKER_STATE/daemon.json" \
    --data-root "$DOCKER_STATE/data" --exec-root "$DOCKER_RUN/exec" --pidfile "$DOCKER_RUN/dockerd.pid" \
    -H "unix://$DOCKER_SOCK" --containerd "$CONTAINERD_SOCK"
  for _ in $(seq 1 300); do engine_answers && break; te_pid_alive dockerd || break; sleep 0.1; done
  engine_answers || te_die "dockerd did not start; see $TE_DIR/logs/dockerd.log"
  te_log "ready: DOCKER_HOST=unix://$DOCKER_SOCK"
  te_env docker "DOCKER_HOST=unix://$DOCKER_SOCK"
}

# Mounts dockerd/containerd leave behind after they exit (an nsfs for a network namespace
# under the exec root, an overlay of a container that did not stop), deepest first.
unmount_leftovers() {
  local m
  awk '{print $2}' /proc/self/mounts | { grep -E "^($DOCKER_RUN|$DOCKER_STATE)/" || true; } | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || te_log "could not unmount $m"
  done
}

# Bridges of this engine's user-defined networks (kind's, tests'): dockerd leaves them on
# the host when it exits, and creates them again when it starts.
bridge_links() {
  local id name
  for id in $(docker network ls -q --no-trunc --filter driver=bridge 2>/dev/null); do
    name=$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$id" 2>/dev/null) || continue
    echo "${name:-br-${id:0:12}}"
  done
}

cmd_stop() {
  rm -f "$TE_DIR/env.d/docker.env"
  if [ "$(id -u)" -ne 0 ]; then return 0; fi
  local links=() link
  if engine_answers; then mapfile -t links < <(DOCKER_HOST="unix://$DOCKER_SOCK" bridge_links); fi
  if te_pid_alive dockerd; then
    te_log "stopping dockerd"
    # dockerd stops its containers first (up to their stop timeout): give it time.
    te_stop_daemon dockerd 60
  else
    te_stop_daemon dockerd 0
  fi
  te_stop_daemon containerd 20
  unmount_leftovers
  for link in "${links[@]}"; do
    ip link show "$link" >/dev/null 2>&1 && ip link delete "$link" && te_log "removed bridge $link"
  done
  # Runtime state only (sockets, exec root, containerd's state); the data stays.
  rm -rf --one-file-system "${DOCKER_RUN:?}"
  if [ -f "$DOCKER_STATE/lib-modules-absent" ]; then
    # Created by docker for a bind mount (kind's node): empty, so remove it again.
    [ -d /lib/modules ] && rmdir /lib/modules 2>/dev/null && te_log "removed /lib/modules (docker created it)"
    rm -f "$DOCKER_STATE/lib-modules-absent"
  fi
}

cmd_status() {
  if engine_answers; then
    te_log "running: DOCKER_HOST=unix://$DOCKER_SOCK"
    return 0
  fi
  te_log "not running"
  return 1
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
