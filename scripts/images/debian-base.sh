#!/usr/bin/env bash
# A Debian slim base image without a container registry: the rootfs from the Debian
# package registry (mmdebstrap --variant=minbase, as debian:<suite>-slim is: merged /usr,
# no docs, man pages, info or locales), cached as a tar in $MP_TOOLS_CACHE/images/, then
# `docker import`ed as local/debian:<suite>-slim.
#
# Usage: debian-base.sh [suite]   (default bookworm; prints the image name)
#        IM_PRINT=key debian-base.sh   prints the cache key only (builds nothing)
# Env:   DEBIAN_MIRROR (default http://deb.debian.org/debian)
source "$(dirname "$0")/lib.sh"
IM_STEP=debian

suite=${1:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
image="local/debian:$suite-slim"
# The same exclusions as the official slim images (debuerreotype --slimify); they stay in
# /etc/dpkg/dpkg.cfg.d/99mmdebstrap, so packages installed later obey them too.
recipe=(--variant=minbase --mode=root --format=tar
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/linda/*'
  --dpkgopt='path-exclude=/var/cache/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --aptopt='Acquire::Languages "none"')
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main"
  "deb ${mirror%/debian}/debian-security $suite-security main")
# The cache key is the recipe itself, not this file: a comment or log line here does not
# rebuild the rootfs (and everything built on it).
key=$(printf '%s\n' "$suite" "${recipe[@]}" "${sources[@]}" | sha256sum | cut -c1-12)
tarball="$IM_CACHE/debian-$suite-slim-$key.tar"
if [ "${IM_PRINT:-}" = key ]; then
  echo "$key"
  exit 0
fi

im_engine
if [ ! -s "$tarball" ]; then
  [ "$(id -u)" -eq 0 ] || im_die "mmdebstrap --mode=root needs root"
  TE_SERVER=images source "$IM_REPO/scripts/test-env/lib.sh"
  command -v mmdebstrap >/dev/null || te_apt_install mmdebstrap
  t0=$SECONDS
  im_log "building a $suite minbase rootfs from $mirror"
  mmdebstrap --quiet "${recipe[@]}" "$suite" "$tarball.tmp" "${sources[@]}" >"$IM_CACHE/debian-$suite-slim.log" 2>&1 ||
    im_die "mmdebstrap failed; see $IM_CACHE/debian-$suite-slim.log"
  mv "$tarball.tmp" "$tarball"
  im_prune_cache "$tarball"
  im_log "rootfs built in $((SECONDS - t0))s: $tarball"
fi
# A second tag names the cache key: an engine that has it has this very rootfs. (Not a
# label: labels are inherited by every image built on this one, the product's included.)
if ! im_have "$image-$key"; then
  im_log "importing $tarball as $image"
  docker import -c 'CMD ["bash"]' "$tarball" "$image-$key" >/dev/null
fi
docker tag "$image-$key" "$image"
echo "$image"
