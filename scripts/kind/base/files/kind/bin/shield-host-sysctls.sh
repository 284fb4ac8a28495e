#!/bin/bash
# Covers the host-wide sysctls the kubelet writes with plain files, in this node's mount
# namespace only (see kubelet.service.d/20-shield-host-sysctls.conf). The kubelet writes
# and reads back the files and is content; the host keeps its values. Idempotent: the
# kubelet restarts often while kubeadm sets it up.
set -o errexit -o nounset -o pipefail
mkdir -p /kind/shielded-sysctls
for entry in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
  target=/proc/sys/$entry
  if ! grep -q " $target " /proc/self/mountinfo; then
    file=/kind/shielded-sysctls/${entry//\//.}
    cat "$target" >"$file"
    mount --bind "$file" "$target"
  fi
done
