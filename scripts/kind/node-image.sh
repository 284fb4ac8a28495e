#!/usr/bin/env bash
# Makes the offline kind node image the way `kind build node-image` does
# (sigs.k8s.io/kind pkg/build/nodeimage), without a container registry: the Kubernetes
# component images come from binaries built here, and are imported into the node's
# containerd under the names kubeadm expects, so no pull ever happens.
#
#   1. kube-apiserver, -controller-manager, -scheduler, etcd, coredns, pause as FROM scratch
#      images of their static binaries; kube-proxy on the local Debian image (iptables);
#   2. a build container of the base image (base-image.sh): kubelet, kubeadm, kubectl in
#      /usr/bin, /kind/version, a static CNI config (kindnetd is not obtainable), containerd's
#      sandbox_image = our pause; containerd started in it imports the image archive;
#   3. `docker commit` with kind's entry point.
#
# The result is cached as a `docker save` archive in the tools cache, keyed by every input,
# so a fresh engine (a new .test-env) only loads it.
#
# Usage: node-image.sh DEBIAN_IMAGE   (prints the node image's name on stdout)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

debian_image=${1:?usage: node-image.sh DEBIAN_IMAGE}
kind_image_identity "$debian_image" >/dev/null # fails here, not inside the key's pipeline
key=$( (
  echo "$(kind_image_identity "$debian_image") $KUBE_VERSION $ETCD_VERSION $KIND_VERSION $KIND_CONTAINERD_VERSION"
  echo "$KIND_CRICTL_VERSION $KIND_CNI_PLUGINS_VERSION $KIND_COREDNS_VERSION $KIND_PAUSE_TAG"
  cd "$kind_repo" && find scripts/kind/base scripts/kind/node scripts/kind/*-image.sh scripts/kind/versions.sh \
    tools/pause -type f | LC_ALL=C sort | xargs sha256sum
) | sha256sum | cut -c1-12)
image=market-pipeline-kind-node:$KUBE_VERSION-$key
archive=$MP_TOOLS_CACHE/kind-node-images/$KUBE_VERSION-$key.tar

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
if [ -f "$archive" ]; then
  kind_log "loading $image from $archive"
  docker load -i "$archive" >&2
  echo "$image"
  exit 0
fi

started=$SECONDS
bash "$kind_here/build-tools.sh"
bash "$kind_repo/scripts/test-env/build-k8s-tools.sh" --kind-node >/dev/null
base=$(bash "$kind_here/base-image.sh" "$debian_image")

work=$(mktemp -d -t kind-node.XXXXXX)
container=kind-build-$$-$RANDOM
cleanup() {
  docker rm -f -v "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# What kubeadm will ask for; coredns and pause must be exactly the versions we built, etcd
# is replaced by the test environment's (kind config: etcd.local.imageTag).
"$K8S_BIN_DIR/kubeadm" config images list --kubernetes-version "$KUBE_VERSION" >"$work/required"
for expected in "registry.k8s.io/coredns/coredns:$KIND_COREDNS_VERSION" "registry.k8s.io/pause:$KIND_PAUSE_TAG"; do
  grep -qx "$expected" "$work/required" ||
    kind_die "kubeadm $KUBE_VERSION does not ask for $expected but for: $(tr '\n' ' ' <"$work/required"); update scripts/kind/versions.sh"
done

# scratch_image NAME BINARY PATH_IN_IMAGE: a one-layer image of one static binary.
scratch_image() {
  local name=$1 binary=$2 path=$3 root
  root=$work/rootfs-$(basename "$binary")
  mkdir -p "$root/$(dirname "$path")"
  cp "$binary" "$root/$path"
  tar -C "$root" -c . | docker import \
    -c "ENTRYPOINT [\"$path\"]" -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$name" >/dev/null
  images+=("$name")
}
images=()
for component in kube-apiserver kube-controller-manager kube-scheduler; do
  scratch_image "registry.k8s.io/$component:$KUBE_VERSION" "$K8S_BIN_DIR/$component" "/usr/local/bin/$component"
done
scratch_image "registry.k8s.io/etcd:$KIND_ETCD_TAG" "$K8S_BIN_DIR/etcd" /usr/local/bin/etcd
scratch_image "registry.k8s.io/coredns/coredns:$KIND_COREDNS_VERSION" "$COREDNS_BIN_DIR/coredns" /coredns
scratch_image "registry.k8s.io/pause:$KIND_PAUSE_TAG" "$PAUSE_BIN_DIR/pause" /pause

mkdir "$work/kube-proxy"
cp "$kind_here/node/kube-proxy.Dockerfile" "$kind_here/node/iptables-wrapper" "$K8S_BIN_DIR/kube-proxy" "$work/kube-proxy/"
DOCKER_BUILDKIT=0 docker build --network host --build-arg BASE_IMAGE="$debian_image" \
  -f "$work/kube-proxy/kube-proxy.Dockerfile" -t "registry.k8s.io/kube-proxy:$KUBE_VERSION" "$work/kube-proxy" >&2
images+=("registry.k8s.io/kube-proxy:$KUBE_VERSION")
docker save "${images[@]}" -o "$work/images.tar"

kind_log "assembling $image in $container"
# As kind does: the base image kept alive by sleep, no privileges (containerd only imports).
docker run -d --entrypoint=sleep --name "$container" --security-opt seccomp=unconfined "$base" infinity >/dev/null
for binary in kubelet kubeadm kubectl; do
  docker cp "$K8S_BIN_DIR/$binary" "$container:/usr/bin/$binary"
done
docker cp "$kind_here/node/10-kind-ptp.conflist" "$container:/etc/cni/net.d/10-kind-ptp.conflist" 2>/dev/null || {
  docker exec "$container" mkdir -p /etc/cni/net.d
  docker cp "$kind_here/node/10-kind-ptp.conflist" "$container:/etc/cni/net.d/10-kind-ptp.conflist"
}
docker exec -i "$container" bash -euc '
  chown root:root /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl /etc/cni/net.d/10-kind-ptp.conflist
  chmod 0755 /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl
  chmod 0644 /etc/cni/net.d/10-kind-ptp.conflist
  echo -n "$1" >/kind/version
  sed -i "s|sandbox_image = .*|sandbox_image = \"$2\"|" /etc/containerd/config.toml
  grep -q "sandbox_image = \"$2\"" /etc/containerd/config.toml
' _ "$KUBE_VERSION" "registry.k8s.io/pause:$KIND_PAUSE_TAG"

docker exec "$container" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
docker exec "$container" bash -euc '
  for i in $(seq 50); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
  ctr info >/dev/null'
docker exec -i "$container" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
  --all-platforms --no-unpack --digests - <"$work/images.tar" >&2
docker exec "$container" ctr --namespace=k8s.io images list -q >"$work/imported"
for name in "${images[@]}"; do
  grep -qx "$name" "$work/imported" || kind_die "$name is missing from the node's containerd after the import"
done
# Stop containerd before the commit so its metadata database is closed. Its parent is
# sleep, which reaps nobody: a stopped containerd stays as a zombie, so wait for that state.
docker exec "$container" bash -c 'pkill -x containerd
  for i in $(seq 50); do ps -o stat= -C containerd | grep -qv "^Z" || exit 0; sleep 0.2; done; exit 1'
docker exec "$container" rm -f /tmp/containerd.log

docker commit \
  --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
  --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
  "$container" "$image" >/dev/null
# The component images live on inside the node image; the engine does not need them.
docker rmi "${images[@]}" >/dev/null
mkdir -p "$(dirname "$archive")"
docker save "$image" -o "$archive.tmp"
mv "$archive.tmp" "$archive"
# One node image per machine is enough: older builds (other inputs) go, from the cache
# (1 GB each) and from the engine (unless a cluster still runs them).
find "$(dirname "$archive")" -maxdepth 1 -name '*.tar' ! -name "$(basename "$archive")" -delete
docker images --format '{{.Repository}}:{{.Tag}}' market-pipeline-kind-node | grep -vx "$image" |
  xargs -r docker rmi >/dev/null 2>&1 || true
kind_log "built $image in $((SECONDS - started)) s (cached as $archive)"
echo "$image"
