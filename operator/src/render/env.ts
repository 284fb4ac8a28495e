// The workloads' environment, rendered from a MarketPipeline spec. Variable names are typed
// against the zod schemas the workloads validate them with (workloads/src/contracts/env.ts),
// so a misspelled or renamed variable is a compile error here, not a crash-looping pod.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  bridgeEnv,
  type aggregatorEnv,
  type backfillEnv,
  type cacheEnv,
  type clickhouseEnv,
  type clickhouseTicksEnv,
  type collectorEnv,
  type kafkaEnv,
  type marketEnv,
  type migrateEnv,
  type natsEnv,
  type opsEnv,
  type retentionEnv,
  type timescaleEnv,
} from '../../../workloads/src/contracts/env.js';
import type { simulatorEnv } from '../../../workloads/src/simulator/config.js';
import type { relayEnv } from '../../../workloads/src/contracts/env.js';
import type { MarketPipelineSpec, SecretKeyRef } from '../crd/spec.js';
import { childName, type Component } from './names.js';

type ContractEnvName =
  | keyof z.input<typeof natsEnv>
  | keyof z.input<typeof kafkaEnv>
  | keyof z.input<typeof timescaleEnv>
  | keyof z.input<typeof clickhouseEnv>
  | keyof z.input<typeof clickhouseTicksEnv>
  | keyof z.input<typeof cacheEnv>
  | keyof z.input<typeof marketEnv>
  | keyof z.input<typeof retentionEnv>
  | keyof z.input<typeof migrateEnv>
  | keyof z.input<typeof bridgeEnv>
  | keyof z.input<typeof aggregatorEnv>
  | keyof z.input<typeof opsEnv>
  | keyof z.input<typeof collectorEnv>
  | keyof z.input<typeof simulatorEnv>
  | keyof z.input<typeof backfillEnv>
  | keyof z.input<typeof relayEnv>;

export type WorkloadEnvName = ContractEnvName;
export type EnvMap = Partial<Record<WorkloadEnvName, string>>;

/** Port of every workload's /metrics, /healthz and /readyz. */
export const WORKLOAD_METRICS_PORT = 9464;

/** Path of the simulator's Polygon-compatible WebSocket, the same as Polygon's forex cluster. */
export const SIMULATOR_WS_PATH = '/forex';

/** Backfill pace against the built-in simulator, which has no REST rate limit. */
export const SIMULATOR_REST_REQUESTS_PER_MINUTE = 600;

/** A secret the workloads read, and which spec field references it (for messages). */
export interface SecretEnv {
  env: WorkloadEnvName;
  ref: SecretKeyRef;
  field: string;
}

/** Splits the spec's ClickHouse URL into the variables the workloads read. */
export function clickhouseParts(url: string): { protocol: 'http' | 'https'; host: string; port: number } {
  const parsed = new URL(url);
  const protocol = parsed.protocol === 'https:' ? 'https' : 'http';
  // An explicit port wins; otherwise the scheme's own (80/443), as for any URL.
  const port = parsed.port ? Number(parsed.port) : protocol === 'https' ? 443 : 80;
  return { protocol, host: parsed.hostname, port };
}

/** The simulator's in-cluster address (same namespace, so the short Service name resolves). */
export function simulatorUrls(pipelineName: string, port: number): { ws: string; rest: string } {
  const host = `${childName.simulator(pipelineName)}:${port}`;
  return { ws: `ws://${host}${SIMULATOR_WS_PATH}`, rest: `http://${host}` };
}

/**
 * The ConfigMap data: every non-secret setting, shared by all components (each workload
 * validates the variables it needs and ignores the rest). Optional parts appear only when
 * configured, so removing Kafka from the spec removes its variables.
 */
/**
 * The pipeline id of a MarketPipeline: `<namespace>_<name>`. Kubernetes names contain no
 * `_`, so it names exactly one pipeline, and it is one NATS subject token (contracts/subjects.ts).
 */
export function pipelineId(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

/** The resolved source of a relay pipeline (reconcile/relay-source.ts). */
export interface RelaySourceIds {
  pipelineId: string;
  tenantId: string;
}

export function configData(
  name: string,
  spec: MarketPipelineSpec,
  namespace: string,
  relaySource?: RelaySourceIds,
): EnvMap {
  const ch = clickhouseParts(spec.clickhouse.url);
  const data: EnvMap = {
    SYMBOLS: spec.symbols.join(','),
    TENANT_ID: spec.tenantId,
    // Names everything the pipeline creates on NATS after it (README "Many pipelines on one
    // set of servers"): two pipelines on one NATS never share a subject, stream or consumer.
    PIPELINE_ID: pipelineId(namespace, name),
    LOG_LEVEL: spec.logLevel,
    METRICS_PORT: String(WORKLOAD_METRICS_PORT),
    NATS_URL: spec.nats.url,
    NATS_STREAM_MAX_AGE_SECONDS: String(spec.nats.streamMaxAgeSeconds),
    NATS_DUPLICATE_WINDOW_SECONDS: String(spec.nats.duplicateWindowSeconds),
    TIMESCALEDB_HOST: spec.timescaledb.host,
    TIMESCALEDB_PORT: String(spec.timescaledb.port),
    TIMESCALEDB_DATABASE: spec.timescaledb.database,
    TIMESCALEDB_USER: spec.timescaledb.user,
    TIMESCALEDB_POOL_SIZE: String(spec.timescaledb.poolSize),
    TIMESCALEDB_RETENTION_DAYS: String(spec.timescaledb.retentionDays),
    TIMESCALEDB_COMPRESS_AFTER_DAYS: String(spec.timescaledb.compressAfterDays),
    CLICKHOUSE_PROTOCOL: ch.protocol,
    CLICKHOUSE_HOST: ch.host,
    CLICKHOUSE_PORT: String(ch.port),
    CLICKHOUSE_DATABASE: spec.clickhouse.database,
    CLICKHOUSE_USER: spec.clickhouse.user,
    CLICKHOUSE_RETENTION_DAYS: String(spec.clickhouse.retentionDays),
    CLICKHOUSE_TICKS_ENABLED: String(spec.clickhouse.ticks.enabled),
    CLICKHOUSE_TICKS_RETENTION_DAYS: String(spec.clickhouse.ticks.retentionDays),
    LIVE_BATCH_SIZE: String(spec.bridge.live.batchSize),
    LIVE_BATCH_TIMEOUT: String(spec.bridge.live.batchTimeoutSeconds),
    HISTORICAL_BATCH_SIZE: String(spec.bridge.historical.batchSize),
    HISTORICAL_BATCH_TIMEOUT: String(spec.bridge.historical.batchTimeoutSeconds),
    BRIDGE_ACK_WAIT: String(bridgeAckWaitSeconds()),
    BRIDGE_WRITE_CONCURRENCY: String(spec.bridge.writeConcurrency),
    AGGREGATE_LOOKBACK_BARS: String(spec.aggregator.lookbackBars),
    BACKFILL_WINDOW_DAYS: String(spec.backfill.windowDays),
    // The gap filler fills and repairs only the timeframes the pipeline aggregates.
    BACKFILL_TIMEFRAMES: spec.timeframes.join(','),
  };
  if (spec.nats.user) data.NATS_USER = spec.nats.user;
  if (spec.cache) {
    // The seed's names; the bridge writes the cache only when DRAGONFLYDB_HOST is set.
    data.DRAGONFLYDB_HOST = spec.cache.host;
    data.DRAGONFLYDB_PORT = String(spec.cache.port);
    data.CACHE_TTL_SECONDS = String(spec.cache.ttlSeconds);
  }
  const pips = Object.entries(spec.pipSizes ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (pips.length) data.PIP_SIZES = pips.map(([sym, size]) => `${sym}=${size}`).join(',');
  if (spec.kafka) {
    data.KAFKA_BROKERS = spec.kafka.brokers.join(',');
    data.KAFKA_TICK_TOPIC = spec.kafka.tickTopic;
    data.KAFKA_AGGREGATE_TOPIC = spec.kafka.aggregateTopic;
  }
  const { polygon, simulator, relay } = spec.source;
  if (relay) {
    if (relaySource) {
      data.RELAY_SOURCE_PIPELINE_ID = relaySource.pipelineId;
      data.RELAY_SOURCE_TENANT_ID = relaySource.tenantId;
    }
    if (relay.polygonRest) {
      data.POLYGON_REST_URL = relay.polygonRest.restUrl;
      data.POLYGON_REST_REQUESTS_PER_MINUTE = String(relay.polygonRest.restRequestsPerMinute);
    }
  } else if (polygon) {
    data.POLYGON_WS_URL = polygon.websocketUrl;
    data.POLYGON_REST_URL = polygon.restUrl;
    data.POLYGON_REST_REQUESTS_PER_MINUTE = String(polygon.restRequestsPerMinute);
  } else if (simulator) {
    const urls = simulatorUrls(name, simulator.port);
    data.POLYGON_WS_URL = urls.ws;
    data.POLYGON_REST_URL = urls.rest;
    // The simulator has no REST rate limit; pace the backfill generously instead of at the
    // free plan's 5 requests a minute.
    data.POLYGON_REST_REQUESTS_PER_MINUTE = String(SIMULATOR_REST_REQUESTS_PER_MINUTE);
    data.SIMULATOR_PORT = String(simulator.port);
    data.SIMULATOR_QUOTES_PER_SECOND = String(simulator.quotesPerSecond);
    if (simulator.seed !== undefined) data.SIMULATOR_SEED = String(simulator.seed);
  }
  return sortKeys(data);
}

/**
 * The Secret keys each component reads. The database passwords go to every component that
 * may open that database (a workload whose config requires a password it did not get would
 * crash-loop; one it does not need is ignored).
 */
export function secretEnv(component: Component, spec: MarketPipelineSpec): SecretEnv[] {
  const timescale: SecretEnv = {
    env: 'TIMESCALEDB_PASSWORD',
    ref: spec.timescaledb.passwordSecretRef,
    field: 'spec.timescaledb.passwordSecretRef',
  };
  const clickhouse: SecretEnv[] = spec.clickhouse.passwordSecretRef
    ? [
        {
          env: 'CLICKHOUSE_PASSWORD',
          ref: spec.clickhouse.passwordSecretRef,
          field: 'spec.clickhouse.passwordSecretRef',
        },
      ]
    : [];
  const cache: SecretEnv[] = spec.cache?.passwordSecretRef
    ? [
        {
          env: 'DRAGONFLYDB_PASSWORD',
          ref: spec.cache.passwordSecretRef,
          field: 'spec.cache.passwordSecretRef',
        },
      ]
    : [];
  const n = spec.nats;
  const nats: SecretEnv[] = [
    ...(n.passwordSecretRef
      ? [{ env: 'NATS_PASSWORD' as const, ref: n.passwordSecretRef, field: 'spec.nats.passwordSecretRef' }]
      : []),
    ...(n.nkeySeedSecretRef
      ? [{ env: 'NATS_NKEY_SEED' as const, ref: n.nkeySeedSecretRef, field: 'spec.nats.nkeySeedSecretRef' }]
      : []),
    ...(n.credsSecretRef
      ? [{ env: 'NATS_CREDS' as const, ref: n.credsSecretRef, field: 'spec.nats.credsSecretRef' }]
      : []),
  ];
  const polygon: SecretEnv[] = spec.source.polygon
    ? [
        {
          env: 'POLYGON_API_KEY',
          ref: spec.source.polygon.apiKeySecretRef,
          field: 'spec.source.polygon.apiKeySecretRef',
        },
      ]
    : [];
  // A relay has no WebSocket key; its gap filler may have a REST key.
  const rest: SecretEnv[] = spec.source.relay?.polygonRest
    ? [
        {
          env: 'POLYGON_API_KEY',
          ref: spec.source.relay.polygonRest.apiKeySecretRef,
          field: 'spec.source.relay.polygonRest.apiKeySecretRef',
        },
      ]
    : polygon;
  switch (component) {
    case 'collector':
      return [...polygon, ...nats];
    case 'bridge':
      return [timescale, ...clickhouse, ...cache, ...nats];
    case 'aggregator':
      return [timescale, ...clickhouse, ...nats];
    case 'migrate':
      return [timescale, ...clickhouse];
    case 'backfill':
      return [timescale, ...clickhouse, ...rest, ...nats];
    case 'simulator':
      return [];
  }
}

/**
 * The bridge's ack wait: its workload default. It no longer depends on the batch timeouts
 * (the bridge sends progress replies for whatever it holds, every third of the ack wait), and
 * a short one is what brings a killed replica's messages back within seconds.
 */
export function bridgeAckWaitSeconds(): number {
  return (bridgeEnv.shape.BRIDGE_ACK_WAIT.parse(undefined) as number) / 1000;
}

/**
 * Plain (non-secret) variables set on one component's container. With the simulator the
 * collector and backfill still need *an* API key, and the simulator accepts exactly one:
 * the same fixed placeholder is set on all three (it is not a secret, and it is kept out of
 * the ConfigMap so that no key-looking value ever appears there).
 */
export const SIMULATOR_API_KEY = 'simulator';

export function literalEnv(component: Component, spec: MarketPipelineSpec): EnvMap {
  if (
    spec.source.simulator &&
    (component === 'collector' || component === 'backfill' || component === 'simulator')
  ) {
    return { POLYGON_API_KEY: SIMULATOR_API_KEY };
  }
  return {};
}

/**
 * Checksum of everything a pod reads at start besides its own spec: the ConfigMap data and
 * which Secret keys are referenced (names and keys only: Secret values are never read into
 * the operator's output). Stored on pod templates, so a change rolls the Deployments.
 */
export function configChecksum(data: EnvMap, spec: MarketPipelineSpec): string {
  const secretRefs = (['collector', 'bridge', 'aggregator', 'backfill', 'migrate'] as const).flatMap((c) =>
    secretEnv(c, spec).map((s) => `${c}:${s.env}=${s.ref.name}/${s.ref.key}`),
  );
  return sha256(JSON.stringify({ data, secretRefs }));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sortKeys<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => a.localeCompare(b))) as T;
}
