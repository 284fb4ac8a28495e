#!/usr/bin/env bash
# `make images`: build the operator and workload images from images/*.Dockerfile.
#
# Usage: build.sh
# Env:   IMAGE_REGISTRY, IMAGE_TAG   names: $IMAGE_REGISTRY/market-pipeline-{operator,workloads}:$IMAGE_TAG
#        IMAGE_BASES=auto|upstream|local
#          upstream  the Dockerfiles' own base (the official node image, from Docker Hub)
#          local     no container registry: the base is local/node:<.nvmrc>-bookworm-slim
#                    (node-base.sh), passed as NODE_IMAGE; the build runs on the host network
#                    (the test environment's engine has no bridge) and gets the host's extra
#                    CA certificates as EXTRA_CA_CERTS_PEM, which only the build stages read
#          auto      (default) upstream when Docker Hub's registry answers, else local
# The engine: DOCKER_HOST or the default socket when one answers, else the test
# environment's (scripts/test-env/docker.sh start).
source "$(dirname "$0")/lib.sh"
IM_STEP=build

registry=${IMAGE_REGISTRY:-ghcr.io/suho}
tag=${IMAGE_TAG:-$(node -p "require('$IM_REPO/package.json').version")}
bases=${IMAGE_BASES:-auto}

source "$IM_REPO/scripts/test-env/registry.sh"

if [ "$bases" = auto ]; then
  if container_registry_reachable; then bases=upstream; else bases=local; fi
  im_log "IMAGE_BASES=auto: $bases"
fi
im_engine
args=(--build-arg "VERSION=$tag" --build-arg "REVISION=$(git -C "$IM_REPO" rev-parse HEAD 2>/dev/null || echo unknown)")
case "$bases" in
  upstream) ;;
  local)
    args+=(--network host --build-arg "NODE_IMAGE=$("$IM_SCRIPTS/node-base.sh")" --build-arg EXTRA_CA_CERTS_PEM)
    EXTRA_CA_CERTS_PEM=$(im_extra_ca_pem)
    export EXTRA_CA_CERTS_PEM
    ;;
  *) im_die "IMAGE_BASES must be auto, upstream or local (got '$bases')" ;;
esac

# docker 20.10's BuildKit would pull the syntax image; a newer client without buildx
# refuses DOCKER_BUILDKIT=1. The Dockerfiles need nothing the classic builder lacks.
export DOCKER_BUILDKIT=0
for name in operator workloads; do
  image="$registry/market-pipeline-$name:$tag"
  im_log "building $image"
  t0=$SECONDS
  docker build -q -f "$IM_REPO/images/$name.Dockerfile" -t "$image" "${args[@]}" "$IM_REPO" >/dev/null
  im_log "$image built in $((SECONDS - t0))s"
  echo "$image"
done
