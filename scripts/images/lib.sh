# Helpers of the image scripts (scripts/images/). Sourced, not run.
# Images built here are cached as tar files in $MP_TOOLS_CACHE/images/, keyed by version
# and by the digest of the files that build them, so a fresh clone (as in CI) reuses them.
set -euo pipefail

IM_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IM_REPO=$(cd "$IM_SCRIPTS/../.." && pwd)
source "$IM_REPO/scripts/test-env/versions.sh"
IM_CACHE="$MP_TOOLS_CACHE/images"
mkdir -p "$IM_CACHE"

im_log() { printf '[images %s] %s\n' "${IM_STEP:-}" "$*" >&2; }
im_die() { im_log "ERROR: $*"; exit 1; }

# im_engine: make sure a container engine answers. An engine the caller chose (DOCKER_HOST
# set, or the default socket answering) is used as it is; otherwise the test environment's
# own (scripts/test-env/docker.sh) is started and DOCKER_HOST points at it.
im_engine() {
  if [ -n "${DOCKER_HOST:-}" ]; then
    docker version >/dev/null 2>&1 || im_die "no container engine answers at DOCKER_HOST=$DOCKER_HOST"
    return 0
  fi
  docker version >/dev/null 2>&1 && return 0
  "$IM_REPO/scripts/test-env/up.sh" docker
  # shellcheck disable=SC1091
  source "${TE_DIR:-$IM_REPO/.test-env}/env.d/docker.env"
  docker version >/dev/null 2>&1 || im_die "the test environment's engine does not answer at $DOCKER_HOST"
}

# im_have IMAGE: true when the engine has IMAGE.
im_have() { docker image inspect "$1" >/dev/null 2>&1; }

# im_extra_ca_pem: the CA certificates the host trusts that Node.js does not ship (PEM).
# Builds that fetch from a registry (npm ci) need them where TLS is intercepted by a CA
# only the host trusts; the Dockerfiles take them as the build argument EXTRA_CA_CERTS_PEM,
# used in build stages only. Only the extra ones: a whole bundle is larger than one
# command-line argument may be (128 KiB).
im_extra_ca_pem() {
  local bundle=${IM_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
  [ -f "$bundle" ] || return 0
  node -e '
    const fs = require("fs"), tls = require("tls");
    const pems = fs.readFileSync(process.argv[1], "utf8")
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const norm = (s) => s.replace(/\s+/g, "");
    const known = new Set(tls.rootCertificates.map(norm));
    process.stdout.write(pems.filter((p) => !known.has(norm(p))).join("\n"));
  ' "$bundle"
}

# im_prune_cache TAR: delete the other builds of the same image from the tar cache (same
# name, another key), so that the cache holds one build per image and version.
im_prune_cache() {
  local name; name=$(basename "$1")
  find "$IM_CACHE" -maxdepth 1 -name "${name%-*}-????????????.tar" ! -name "$name" -delete
}
