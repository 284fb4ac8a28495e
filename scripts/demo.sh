#!/usr/bin/env bash
# `make demo`: the whole live pipeline on this machine, on the built-in Polygon simulator
# (no API key): local NATS, PostgreSQL and ClickHouse (+ Kafka with DEMO_KAFKA=1), schemas
# applied, simulator + collector + bridge running, two days of history filled by the gap
# filler, the 5m aggregator on a timer, and a live table of what got stored. Ctrl-C stops everything the demo started (the servers
# keep running; `make test-env-down` stops them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools/node-env.sh

servers=(nats postgres clickhouse)
[ "${DEMO_KAFKA:-0}" = 1 ] && servers+=(kafka)
scripts/test-env/up.sh "${servers[@]}"
set -a
# shellcheck disable=SC1091
source .test-env/env
set +a
[ "${DEMO_KAFKA:-0}" = 1 ] || unset KAFKA_BROKERS

export SYMBOLS=${SYMBOLS:-EUR/USD,GBP/USD,USD/JPY,XAU/USD}
export POLYGON_API_KEY=${POLYGON_API_KEY:-demo-key}
export SIMULATOR_PORT=${SIMULATOR_PORT:-18765}
export POLYGON_WS_URL=${POLYGON_WS_URL:-ws://127.0.0.1:$SIMULATOR_PORT/forex}
export POLYGON_REST_URL=${POLYGON_REST_URL:-http://127.0.0.1:$SIMULATOR_PORT}
export SIMULATOR_QUOTES_PER_SECOND=${SIMULATOR_QUOTES_PER_SECOND:-5}
# Short batches so that ticks show up within a second or two.
export LIVE_BATCH_TIMEOUT=${LIVE_BATCH_TIMEOUT:-1}
export LOG_LEVEL=${LOG_LEVEL:-info}

logs=.test-env/demo
mkdir -p "$logs"
cli=(node bin/market-pipeline.js)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; logs in $logs/"
}
trap cleanup EXIT INT TERM

background() { # NAME METRICS_PORT ARGS...
  local name=$1 port=$2; shift 2
  METRICS_PORT=$port "${cli[@]}" "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
}

echo "applying schemas..."
"${cli[@]}" migrate >"$logs/migrate.log" 2>&1 || { cat "$logs/migrate.log"; exit 1; }
background simulator 19464 simulate
background bridge 19465 bridge
sleep 1
background collector 19466 collector
# Gap filling, as the backfill CronJob does it: the last two days of bars come from the
# simulator's REST side (Polygon's /v2/aggs), so the dashboard has history at once; live
# bars replace them as the aggregator builds them (live beats historical).
# Then, every minute, the gap filler's scheduled run with a settle time of one minute: the
# first 5m bar, built from the part of its window after the demo started, is published
# partial and replaced by the simulator's REST bar about a minute after it closed (README
# "Coverage, watermark and precedence"; the dashboard's source column says partial/historical).
(
  export POLYGON_REST_REQUESTS_PER_MINUTE=600 BACKFILL_TIMEFRAMES=5m,1h,1d BACKFILL_WINDOW_DAYS=2 \
    BACKFILL_SETTLE_MINUTES=1
  "${cli[@]}" backfill --from "$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)" >"$logs/backfill.log" 2>&1 || true
  while sleep 60; do "${cli[@]}" backfill >>"$logs/backfill.log" 2>&1 || true; done
) &
pids+=($!)
(
  # The 5m aggregator, as its CronJob would run it, but every minute so bars appear soon
  # after each 5-minute boundary (re-running is harmless: unchanged bars are duplicates).
  while sleep 60; do "${cli[@]}" aggregate --timeframe 5m >>"$logs/aggregator.log" 2>&1 || true; done
) &
pids+=($!)

echo "pipeline started (logs in $logs/); starting the dashboard..."
"${cli[@]}" dashboard
