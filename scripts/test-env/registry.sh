# Sourced, not run. One answer, for every script that chooses between the upstream images
# and the ones this project assembles from package registries: does Docker Hub's registry
# answer? (A name that resolves is not enough: where DNS works but the registry is blocked,
# a pull would still fail.) Bounded to 5 s.
container_registry_reachable() { curl -sS -o /dev/null -m 5 https://registry-1.docker.io/v2/ 2>/dev/null; }
