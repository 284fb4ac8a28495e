#!/usr/bin/env bash
# Builds kind's node base image offline (base/Dockerfile: kind v0.33.0's images/base adapted
# to this machine) from the local Debian image, unless the engine has it already.
#
# Usage: base-image.sh DEBIAN_IMAGE   (prints the base image's name on stdout)
# Needs: a running Docker engine (DOCKER_HOST from the environment), build-tools.sh done.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

debian_image=${1:?usage: base-image.sh DEBIAN_IMAGE}
# The name says what went in: kind's version and a hash of this script, our Dockerfile, files, the
# versions of the binaries and the Debian image's name (which the images scripts key by
# their own inputs).
kind_image_identity "$debian_image" >/dev/null # fails here, not inside the key's pipeline
key=$( (
  echo "$(kind_image_identity "$debian_image") $KIND_VERSION $KIND_CONTAINERD_VERSION $KIND_CRICTL_VERSION $KIND_CNI_PLUGINS_VERSION"
  cd "$kind_here" && find base base-image.sh -type f | LC_ALL=C sort | xargs sha256sum
) | sha256sum | cut -c1-12)
image=market-pipeline-kind-base:$KIND_VERSION-$key
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

kind_log "building $image from $debian_image"
# kind's own base image files (entrypoint, systemd units, containerd config, ...) from the
# kind module in the Go module cache: the same source as the kind binary.
(cd / && go mod download "sigs.k8s.io/kind@$KIND_VERSION")
kind_module=$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION
[ -d "$kind_module/images/base/files" ] || kind_die "kind's images/base/files not found in $kind_module"
context=$(mktemp -d -t kind-base.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp -r "$kind_module/images/base/files" "$context/kind-files"
chmod -R u+w "$context/kind-files" # the module cache is read-only
cp -r "$kind_here/base/Dockerfile" "$kind_here/base/files" "$context/"
mkdir "$context/bin" "$context/cni"
cp "$CONTAINERD_BIN_DIR"/{containerd,containerd-shim-runc-v2,ctr} "$CRICTL_BIN_DIR/crictl" "$context/bin/"
cp "$CNI_BIN_DIR"/{host-local,loopback,ptp,bridge,portmap} "$context/cni/"

# The legacy builder (this machine's engine has no usable BuildKit); host network because
# the engine has no bridge, and apt needs the Debian registry.
DOCKER_BUILDKIT=0 docker build --network host --build-arg BASE_IMAGE="$debian_image" \
  -t "$image" "$context" >&2
# Older base images (other inputs) are of no further use.
docker images --format '{{.Repository}}:{{.Tag}}' market-pipeline-kind-base | grep -vx "$image" |
  xargs -r docker rmi >/dev/null 2>&1 || true
echo "$image"
