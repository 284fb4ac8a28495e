#!/usr/bin/env bash
# Apache Kafka (KRaft, one combined broker+controller) for the integration tests, run from
# the Maven Central jars of tools/kafka/pom.xml with the machine's Java 17. Loopback only.
#
# Usage: kafka.sh install|start|stop|status
#   install  copy the broker jars into $MP_TOOLS_CACHE/kafka-$KAFKA_VERSION/libs (once per machine)
#   start    format the data folder (first start only), start the broker, wait until it
#            serves, write .test-env/env.d/kafka.env (KAFKA_BROKERS); when the broker already
#            runs and answers, only the env file
#   stop     stop the broker (controlled shutdown) and drop its env file
#   status   exit 0 when the broker runs and answers on its port
set -euo pipefail
TE_SERVER=kafka
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_HOME="$MP_TOOLS_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_POM="$TE_REPO/tools/kafka/pom.xml"
KAFKA_STATE="$TE_DIR/kafka"
KAFKA_LOG="$TE_DIR/logs/kafka.log"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
KAFKA_START_TIMEOUT=${TE_KAFKA_START_TIMEOUT:-120}

# The marker written after a successful copy holds the digest of the pom that produced the
# jars, then the jar names. An edited pom, an interrupted copy or a deleted jar: fetch again.
pom_digest() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }
libs_complete() {
  local marker="$KAFKA_LIBS/.complete" digest jar jars=0
  [ -f "$marker" ] || return 1
  {
    read -r digest || return 1
    [ "$digest" = "$(pom_digest)" ] || return 1
    while read -r jar; do
      [ -f "$KAFKA_LIBS/$jar" ] || return 1
      jars=$((jars + 1))
    done
  } <"$marker"
  [ "$jars" -gt 0 ] && [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]
}

cmd_install() {
  libs_complete && return 0
  command -v java >/dev/null || te_die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  command -v mvn >/dev/null || te_die "mvn not found (needed once to fetch the Kafka jars)"
  grep -q "<kafka.version>$KAFKA_VERSION</kafka.version>" "$KAFKA_POM" ||
    te_die "tools/kafka/pom.xml does not pin kafka.version $KAFKA_VERSION (versions.sh)"
  te_log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$KAFKA_HOME"
  rm -rf "$KAFKA_HOME"/libs.tmp.* # left by an interrupted install
  local tmp="$KAFKA_HOME/libs.tmp.$$"
  # The pom has packaging "pom": this goal only resolves and copies, it writes no target/.
  local mvn_log="$TE_DIR/logs/kafka-install.log"
  if ! mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    tail -30 "$mvn_log" >&2
    te_die "Maven could not fetch the Kafka jars; see $mvn_log"
  fi
  { pom_digest && (cd "$tmp" && ls -1 -- *.jar); } >"$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  te_log "$(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

# kafka_answers: a real Kafka request, not just an open port. Sends ApiVersions v0
# (api_key 18, correlation id 1, null client id) and expects correlation id 1, error code 0.
kafka_answers() {
  # shellcheck disable=SC2016 # the inner script expands $1 itself
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\xff\xff" >&3
    reply=$(head -c 10 <&3 | od -An -tx1 | tr -d " \n")
    [ "${reply:8:12}" = "000000010000" ]
  ' _ "$KAFKA_PORT" 2>/dev/null
}

cmd_status() {
  if te_pid_alive kafka && kafka_answers; then
    te_log "running (pid $(cat "$TE_DIR/run/kafka.pid")), brokers $KAFKA_BROKERS"
    return 0
  fi
  te_log "not running"
  return 1
}

write_config() {
  mkdir -p "$KAFKA_STATE"
  cat >"$KAFKA_STATE/server.properties" <<EOF
# Written by scripts/test-env/kafka.sh: one combined broker+controller on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_STATE/data

# Topics are created explicitly (admin createTopics), as the product does in production:
# a test that forgets to create its topic fails instead of getting a silent default one.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

# Internal topics on a single node, and few partitions so that they are created fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1

# A consumer group's first rebalance starts at once instead of after 3 s.
group.initial.rebalance.delay.ms=0

# Sized for a 2-core test machine.
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
EOF
  # Broker log to stdout (te_start_daemon sends it to .test-env/logs/kafka.log); the chatty
  # per-request and state-change loggers only from WARN.
  cat >"$KAFKA_STATE/log4j2.properties" <<'EOF'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = WARN
EOF
}

cmd_start() {
  if te_pid_alive kafka && kafka_answers; then
    te_log "already running on $KAFKA_BROKERS"
    te_env kafka "KAFKA_BROKERS=$KAFKA_BROKERS"
    return 0
  fi
  cmd_install
  te_stop_daemon kafka 30 # a broker that runs but does not answer
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    te_port_open "$port" && te_die "port $port is taken by another process (not ours)"
  done
  local t0=$SECONDS

  write_config
  # The data folder is formatted once and kept across stop/start, like the other servers'
  # data (rm -rf .test-env/kafka for an empty cluster). Tests use unique topic names.
  if [ ! -f "$KAFKA_STATE/data/meta.properties" ]; then
    rm -rf "$KAFKA_STATE/data"
    local cluster_id
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    cluster_id=${cluster_id/#-/A} # Kafka refuses ids that start with '-'
    te_log "formatting $KAFKA_STATE/data (cluster id $cluster_id)"
    # Static controller.quorum.voters: format without --standalone. A short-lived tool:
    # C1 only and the serial GC make it start about 1 s faster.
    java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$KAFKA_LIBS/*" \
      "-Dlog4j2.configurationFile=$KAFKA_STATE/log4j2.properties" kafka.tools.StorageTool \
      format -t "$cluster_id" -c "$KAFKA_STATE/server.properties" >"$TE_DIR/logs/kafka-format.log" 2>&1 ||
      te_die "formatting the storage failed: $(tail -5 "$TE_DIR/logs/kafka-format.log")"
  fi

  # A small heap; the G1 flags are those of upstream bin/kafka-run-class.sh.
  local opts=(-Xms256m -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15
    -Djava.awt.headless=true "-Dkafka.logs.dir=$TE_DIR/logs"
    "-Dlog4j2.configurationFile=$KAFKA_STATE/log4j2.properties")
  te_log "starting Kafka $KAFKA_VERSION on $KAFKA_BROKERS (controller $KAFKA_CONTROLLER_PORT)"
  te_start_daemon kafka java "${opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_STATE/server.properties"

  # Ready = the server logged that it started (broker registered and unfenced) and answers a
  # real request on the client port.
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null && kafka_answers; do
    if ! te_pid_alive kafka; then
      tail -30 "$KAFKA_LOG" >&2 || true
      te_die "the broker exited during start; see $KAFKA_LOG"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -30 "$KAFKA_LOG" >&2 || true
      te_stop_daemon kafka 10
      te_die "the broker did not start within ${KAFKA_START_TIMEOUT}s; see $KAFKA_LOG"
    fi
    sleep 0.3
  done
  te_log "ready in $((SECONDS - t0))s (pid $(cat "$TE_DIR/run/kafka.pid"))"
  te_env kafka "KAFKA_BROKERS=$KAFKA_BROKERS"
}

cmd_stop() {
  rm -f "$TE_DIR/env.d/kafka.env"
  if te_pid_alive kafka; then
    te_log "stopping"
    te_stop_daemon kafka 30
  else
    te_stop_daemon kafka 0 # drops a stale pid file
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
