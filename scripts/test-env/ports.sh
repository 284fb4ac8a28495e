# Loopback ports of the test servers: fixed, and away from the servers' defaults so that
# a developer's own NATS/PostgreSQL/Kafka on the usual ports is left alone.
NATS_PORT=${TE_NATS_PORT:-14222}
NATS_MONITOR_PORT=${TE_NATS_MONITOR_PORT:-18222}
PG_PORT=${TE_PG_PORT:-15432}
KAFKA_PORT=${TE_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${TE_KAFKA_CONTROLLER_PORT:-19093}
CLICKHOUSE_PORT=${TE_CLICKHOUSE_PORT:-18123}
REDIS_PORT=${TE_REDIS_PORT:-16379}  # redis-server: the Redis-protocol cache
ETCD_PORT=${TE_ETCD_PORT:-12379}
ETCD_PEER_PORT=${TE_ETCD_PEER_PORT:-12380}
APISERVER_PORT=${TE_APISERVER_PORT:-16443}
KCM_PORT=${TE_KCM_PORT:-16257}  # kube-controller-manager health/metrics
