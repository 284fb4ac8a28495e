#!/usr/bin/env bash
# What a kind cluster can change on the host, recorded before it is created and put back
# after it is deleted (containers.md "Traps"):
#   - kernel.panic, kernel.panic_on_oops, vm.overcommit_memory: not namespaced; the kubelet
#     writes them (the node shields them, see base/files/kind/bin/shield-host-sysctls.sh;
#     this is the second line of defence);
#   - net.ipv4.ip_forward: CNI plugins set it (in the node's netns, but a host run of them
#     would change the host's);
#   - /lib/modules: kind mounts it into the node, and docker creates it if it is missing.
#
# Usage: host-state.sh record FILE    (does nothing if FILE exists: the first record wins)
#        host-state.sh restore FILE   (puts back what changed, then deletes FILE)
#        host-state.sh snapshot DIR   (sysctls, links, routes, iptables, mounts: to compare)
set -euo pipefail

sysctls=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.ip_forward)

case "${1:-}" in
  record)
    file=${2:?usage: host-state.sh record FILE}
    [ -e "$file" ] && exit 0
    mkdir -p "$(dirname "$file")"
    {
      for name in "${sysctls[@]}"; do echo "sysctl $name $(sysctl -n "$name")"; done
      if [ -e /lib/modules ]; then echo "lib_modules present"; else echo "lib_modules absent"; fi
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    ;;
  restore)
    file=${2:?usage: host-state.sh restore FILE}
    [ -f "$file" ] || exit 0
    while read -r what name value; do
      case $what in
        sysctl)
          current=$(sysctl -n "$name")
          if [ "$current" != "$value" ]; then
            echo "host-state: $name was changed to $current; restoring $value" >&2
            sysctl -q -w "$name=$value"
          fi
          ;;
        lib_modules)
          # Only an empty folder that docker made for the mount; never anything with content.
          if [ "$name" = absent ] && [ -d /lib/modules ] && [ -z "$(ls -A /lib/modules)" ]; then
            rmdir /lib/modules
          fi
          ;;
      esac
    done <"$file"
    rm -f "$file"
    ;;
  snapshot)
    dir=${2:?usage: host-state.sh snapshot DIR}
    mkdir -p "$dir"
    # Counters and other values that change on their own are left out, and so are the
    # per-interface entries of veths and bridges (those show in `links`).
    sysctl -a 2>/dev/null | grep -Ev '^(fs\.(dentry-state|inode-nr|inode-state|file-nr|quota)|kernel\.(random|ns_last_pid|pty\.nr|sched_domain)|net\.netfilter\.nf_conntrack_count|vm\.(stat_refresh|drop_caches)|net\.ipv[46]\.(conf|neigh)\.(veth|br-|docker))' >"$dir/sysctl" || true
    ip -br link show >"$dir/links"
    ip route show >"$dir/routes"
    ip -6 route show >"$dir/routes6" 2>/dev/null || true
    for backend in legacy nft; do
      { "iptables-$backend-save" 2>/dev/null || true; } | { grep -v '^#' || true; } |
        sed -E 's/\[[0-9]+:[0-9]+\]//' >"$dir/iptables-$backend"
    done
    awk '{print $5, $9}' /proc/self/mountinfo | sort >"$dir/mounts"
    if [ -e /lib/modules ]; then echo present; else echo absent; fi >"$dir/lib-modules"
    ;;
  *)
    echo "usage: host-state.sh record FILE | restore FILE | snapshot DIR" >&2
    exit 2
    ;;
esac
