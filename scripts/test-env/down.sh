#!/usr/bin/env bash
# `make test-env-down`: stop every test server (data stays in .test-env for the next start).
source "$(dirname "$0")/lib.sh"
for s in docker kube kafka redis clickhouse postgres nats; do
  [ -x "$TE_SCRIPTS/$s.sh" ] && "$TE_SCRIPTS/$s.sh" stop || true
done
rm -f "$TE_DIR/env"
