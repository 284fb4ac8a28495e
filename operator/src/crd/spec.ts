// The MarketPipeline resource: the one definition of its shape. The CRD's OpenAPI schema
// (crds/marketpipelines.marketdata.suho.io.yaml, written by `npm run gen:crd`) and the
// operator's TypeScript types are both derived from these zod schemas, so they cannot drift.
//
// Rules that span fields are CEL `x-kubernetes-validations` (the API server runs them); the
// same rules are mirrored as zod refinements only where the operator relies on them itself.
// Bounds (maxItems, maxLength) on lists and strings also keep CEL's cost estimate in budget.
import { z } from 'zod';
import {
  aggregatorEnv,
  backfillEnv,
  bridgeEnv,
  cacheEnv,
  clickhouseEnv,
  clickhouseTicksEnv,
  collectorEnv,
  kafkaEnv,
  natsEnv,
  opsEnv,
  retentionEnv,
  timescaleEnv,
} from '../../../workloads/src/contracts/env.js';
import { SYMBOL_PATTERN } from '../../../workloads/src/contracts/symbols.js';
import { TIMEFRAMES } from '../../../workloads/src/contracts/timeframes.js';

export const API_GROUP = 'marketdata.suho.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'MarketPipeline';
export const PLURAL = 'marketpipelines';

/** CEL rule attached to a schema node (Kubernetes ValidationRule). */
export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath (relative to the node) of the field the error is reported on. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

const cel = (...rules: CelRule[]) => ({ 'x-kubernetes-validations': rules });

/**
 * A workload's own default for a variable (what it uses when the variable is unset), so the
 * spec's defaults are the workloads' defaults and cannot drift from them.
 */
function workloadDefault<T extends number | string>(schema: z.ZodObject, name: string): T {
  const value: unknown = (schema.shape[name] as z.ZodType).parse(undefined);
  if (typeof value !== 'number' && typeof value !== 'string') throw new Error(`${name} has no default`);
  return value as T;
}
const seconds = (ms: number) => ms / 1000;

// Reusable field types. Each carries the bounds the API server checks.
const symbol = z
  .string()
  .max(7)
  .regex(SYMBOL_PATTERN, 'a symbol is BASE/QUOTE in upper case, e.g. EUR/USD')
  .describe('Canonical symbol, BASE/QUOTE in upper case, e.g. EUR/USD.');

/** Kubernetes object name (DNS-1123 subdomain). */
const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

const secretKeyRef = z
  .object({
    name: objectName.describe('Name of a Secret in the MarketPipeline namespace.'),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/)
      .describe('Key inside the Secret.'),
  })
  .describe('A key of a Secret in the same namespace. The operator references it; it never copies it.');

const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/, 'a DNS name or IPv4 address');

const port = z.int().min(1).max(65535);

/** Kubernetes resource quantity (e.g. 100m, 0.5, 256Mi). */
const quantity = z
  .string()
  .max(32)
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, 'a Kubernetes quantity such as 100m or 256Mi');

const resourceList = z.object({ cpu: quantity.optional(), memory: quantity.optional() });

const resources = z
  .object({ requests: resourceList.optional(), limits: resourceList.optional() })
  .describe(
    'CPU and memory of the component. Unset values take the operator defaults (see README); ' +
      'set only what you want to change.',
  );

/** A URL with one of the given schemes and no whitespace, e.g. nats://nats:4222. */
function urlWith(schemes: string[], description: string) {
  return z
    .string()
    .max(2048)
    .regex(
      new RegExp(`^(${schemes.join('|')})://[^\\s/?#]+(/[^\\s]*)?$`),
      `must be a ${schemes.join(' or ')} URL`,
    )
    .describe(description);
}

const batching = (batchSize: number, timeoutSeconds: number) =>
  z.object({
    batchSize: z.int().min(1).max(100_000).default(batchSize).describe('Rows per database write.'),
    batchTimeoutSeconds: z
      .number()
      .min(0.01)
      .max(300)
      .default(timeoutSeconds)
      .describe('Longest wait before a partial batch is written (seconds).'),
  });

const polygonSource = z.object({
  apiKeySecretRef: secretKeyRef.describe('Secret key holding the Polygon (Massive) API key.'),
  websocketUrl: urlWith(['wss', 'ws'], 'Polygon forex WebSocket endpoint.').default(
    workloadDefault(collectorEnv, 'POLYGON_WS_URL'),
  ),
  restUrl: urlWith(['https', 'http'], 'Polygon REST endpoint (historical bars).').default(
    workloadDefault(backfillEnv, 'POLYGON_REST_URL'),
  ),
  restRequestsPerMinute: z
    .int()
    .min(1)
    .max(100_000)
    .default(workloadDefault(backfillEnv, 'POLYGON_REST_REQUESTS_PER_MINUTE'))
    .describe('REST request budget of the API key (the free plan allows 5 per minute).'),
});

const simulatorSource = z.object({
  quotesPerSecond: z.int().min(1).max(10_000).default(5).describe('Quotes per second per symbol.'),
  seed: z.int().min(0).max(2_147_483_647).optional().describe('Random seed, for reproducible quotes.'),
  port: port.default(8765).describe('Port of the simulated Polygon WebSocket and REST server.'),
  resources: resources.optional(),
});

/** A MarketPipeline name (the rules on the whole object, below: a-z, 0-9, -, at most 37). */
const pipelineName = z
  .string()
  .min(1)
  .max(37)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'a MarketPipeline name: a-z, 0-9 and -, starting with a letter');

const relaySource = z.object({
  pipeline: pipelineName.describe('Name of the MarketPipeline whose ticks and feed gaps this one relays.'),
  namespace: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name')
    .optional()
    .describe("Its namespace; unset: this pipeline's own."),
  polygonRest: polygonSource
    .omit({ websocketUrl: true })
    .optional()
    .describe(
      "Optional: the Polygon REST key and endpoint of this pipeline's gap filler (REST is not limited " +
        'to one connection per key, but shares its request budget). Unset: the backfill CronJob is suspended.',
    ),
});

const source = z
  .object({
    polygon: polygonSource.optional().describe('Live quotes from Polygon.io (Massive).'),
    simulator: simulatorSource
      .optional()
      .describe('A Polygon-compatible simulator deployed next to the pipeline, for demos and tests.'),
    relay: relaySource
      .optional()
      .describe(
        "Another MarketPipeline's ticks, relayed under this pipeline's tenant and names (one Polygon " +
          "key, several pipelines: README). symbols must be a subset of the other pipeline's.",
      ),
  })
  .describe('Where quotes come from: exactly one of polygon, simulator or relay.')
  .meta(
    cel({
      rule: '(has(self.polygon) ? 1 : 0) + (has(self.simulator) ? 1 : 0) + (has(self.relay) ? 1 : 0) == 1',
      message: 'exactly one of source.polygon, source.simulator or source.relay must be set',
    }),
  );

const nats = z
  .object({
    url: urlWith(['nats', 'tls'], 'NATS server URL, e.g. nats://nats:4222.'),
    user: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\s]+$/, 'a NATS user name without spaces')
      .optional()
      .describe("The pipeline's own NATS user (with passwordSecretRef); see README for its permissions."),
    passwordSecretRef: secretKeyRef.optional().describe('Secret key holding the password of nats.user.'),
    nkeySeedSecretRef: secretKeyRef
      .optional()
      .describe(
        "Secret key holding the nkey seed (SU…) of the pipeline's NATS user, instead of user/password.",
      ),
    credsSecretRef: secretKeyRef
      .optional()
      .describe('Secret key holding a NATS .creds file (JWT and nkey seed), instead of user/password.'),
    streamMaxAgeSeconds: z
      .int()
      .min(60)
      .max(365 * 24 * 3600)
      .default(workloadDefault(natsEnv, 'NATS_STREAM_MAX_AGE_SECONDS'))
      .describe('How long JetStream keeps messages.'),
    duplicateWindowSeconds: z
      .int()
      .min(1)
      .max(24 * 3600)
      .default(workloadDefault(natsEnv, 'NATS_DUPLICATE_WINDOW_SECONDS'))
      .describe('JetStream duplicate-detection window.'),
  })
  .describe(
    'The NATS the pipeline uses. Its subjects and streams are named after the pipeline ' +
      '(mp.<namespace>_<name>.>, MARKET_TICKS_<namespace>_<name> …), so pipelines can share one NATS.',
  )
  .meta(
    cel(
      {
        rule: 'has(self.user) == has(self.passwordSecretRef)',
        message: 'nats.user and nats.passwordSecretRef must be set together',
        fieldPath: '.passwordSecretRef',
      },
      {
        rule:
          '(has(self.passwordSecretRef) ? 1 : 0) + (has(self.nkeySeedSecretRef) ? 1 : 0) + ' +
          '(has(self.credsSecretRef) ? 1 : 0) <= 1',
        message: 'set at most one of nats.passwordSecretRef, nats.nkeySeedSecretRef and nats.credsSecretRef',
        fieldPath: '.credsSecretRef',
      },
    ),
  );

const kafkaTopic = z
  .string()
  .min(1)
  .max(249)
  .regex(/^[a-zA-Z0-9._-]+$/);

const kafka = z
  .object({
    brokers: z
      .array(
        z
          .string()
          .max(260)
          .regex(/^[^\s:,]+:[0-9]{1,5}$/, 'each broker is host:port'),
      )
      .min(1)
      .max(50)
      .describe('Bootstrap brokers, host:port.'),
    tickTopic: kafkaTopic
      .default(workloadDefault(kafkaEnv, 'KAFKA_TICK_TOPIC'))
      .describe('Topic archiving ticks.'),
    aggregateTopic: kafkaTopic
      .default(workloadDefault(kafkaEnv, 'KAFKA_AGGREGATE_TOPIC'))
      .describe('Topic archiving bars.'),
  })
  .describe('Optional archive of ticks and bars in Kafka. Without it nothing is sent to Kafka.')
  .meta(
    cel({
      rule: 'self.tickTopic != self.aggregateTopic',
      message: 'kafka.tickTopic and kafka.aggregateTopic must differ',
      fieldPath: '.aggregateTopic',
    }),
  );

const timescaledb = z
  .object({
    host: hostName.describe('TimescaleDB / PostgreSQL host.'),
    port: port.default(workloadDefault(timescaleEnv, 'TIMESCALEDB_PORT')),
    database: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-zA-Z_][a-zA-Z0-9_$-]*$/)
      .default(workloadDefault(timescaleEnv, 'TIMESCALEDB_DATABASE'))
      .describe('Database name.'),
    user: z.string().min(1).max(63).default('suho_service'),
    passwordSecretRef: secretKeyRef.describe('Secret key holding the password of the user.'),
    poolSize: z
      .int()
      .min(1)
      .max(100)
      .default(workloadDefault(timescaleEnv, 'TIMESCALEDB_POOL_SIZE'))
      .describe('Connections per process.'),
    retentionDays: z
      .int()
      .min(1)
      .max(36_500)
      .default(workloadDefault(retentionEnv, 'TIMESCALEDB_RETENTION_DAYS'))
      .describe('Ticks older than this are dropped.'),
    compressAfterDays: z
      .int()
      .min(1)
      .max(36_500)
      .default(workloadDefault(retentionEnv, 'TIMESCALEDB_COMPRESS_AFTER_DAYS'))
      .describe('Chunks older than this are compressed (TimescaleDB only).'),
  })
  .meta(
    cel({
      rule: 'self.compressAfterDays < self.retentionDays',
      message: 'timescaledb.compressAfterDays must be less than timescaledb.retentionDays',
      fieldPath: '.compressAfterDays',
    }),
  );

const clickhouse = z.object({
  // The workloads take protocol, host and port separately, so no path is allowed.
  url: z
    .string()
    .max(512)
    .regex(
      /^https?:\/\/[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]{1,5})?\/?$/,
      'must be http(s)://host[:port]',
    )
    .describe('ClickHouse HTTP interface, e.g. http://clickhouse:8123 (without a port: 80 or 443).'),
  database: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
    .default(workloadDefault(clickhouseEnv, 'CLICKHOUSE_DATABASE')),
  user: z.string().min(1).max(63).default(workloadDefault(clickhouseEnv, 'CLICKHOUSE_USER')),
  passwordSecretRef: secretKeyRef
    .optional()
    .describe('Secret key holding the password; unset for a user without one.'),
  retentionDays: z
    .int()
    .min(1)
    .max(36_500)
    .default(workloadDefault(retentionEnv, 'CLICKHOUSE_RETENTION_DAYS'))
    .describe('TTL of the aggregates.'),
  ticks: z
    .object({
      enabled: z
        .boolean()
        .default(clickhouseTicksEnv.shape.CLICKHOUSE_TICKS_ENABLED.parse(undefined))
        .describe(
          'Also store every tick in ClickHouse `ticks` (for years, for backtesting), through a durable consumer of its own: a ClickHouse outage never holds back PostgreSQL.',
        ),
      retentionDays: z
        .int()
        .min(1)
        .max(36_500)
        .default(workloadDefault(retentionEnv, 'CLICKHOUSE_TICKS_RETENTION_DAYS'))
        .describe('TTL of the ClickHouse ticks (migrate reconciles it).'),
    })
    .prefault({})
    .describe('The optional long-term tick store.'),
});

const cache = z
  .object({
    host: hostName.describe('Host of a Redis-protocol server: DragonflyDB, Redis or Valkey.'),
    port: port.default(workloadDefault(cacheEnv, 'DRAGONFLYDB_PORT')),
    passwordSecretRef: secretKeyRef
      .optional()
      .describe('Secret key holding the password (AUTH); unset for a server without one.'),
    ttlSeconds: z
      .int()
      .min(60)
      .max(365 * 24 * 3600)
      .default(workloadDefault(cacheEnv, 'CACHE_TTL_SECONDS'))
      .describe('How long a cached tick lives without a newer one (a bar: this plus its timeframe).'),
  })
  .describe(
    'Latest-quote cache: the bridge keeps the latest tick per symbol and the latest bar per symbol and timeframe there after each commit (README "Latest-quote cache"). Unset: no cache.',
  );

const bridge = z.object({
  replicas: z.int().min(1).max(20).default(1).describe('Bridge replicas (they share durable consumers).'),
  live: batching(
    workloadDefault(bridgeEnv, 'LIVE_BATCH_SIZE'),
    seconds(workloadDefault(bridgeEnv, 'LIVE_BATCH_TIMEOUT')),
  )
    .prefault({})
    .describe('Batching of live ticks and bars.'),
  historical: batching(
    workloadDefault(bridgeEnv, 'HISTORICAL_BATCH_SIZE'),
    seconds(workloadDefault(bridgeEnv, 'HISTORICAL_BATCH_TIMEOUT')),
  )
    .prefault({})
    .describe('Batching of historical (backfilled) bars.'),
  writeConcurrency: z
    .int()
    .min(1)
    .max(8)
    .default(workloadDefault(bridgeEnv, 'BRIDGE_WRITE_CONCURRENCY'))
    .describe(
      'Batches of one stream a replica writes at the same time, each on its own connection (of timescaledb.poolSize).',
    ),
  resources: resources.optional(),
});

const cronSchedule = z
  .string()
  .max(128)
  .regex(
    /^(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|(\S+\s+){4}\S+)$/,
    'a five-field cron schedule',
  )
  .describe('Cron schedule in UTC.');

const backfill = z.object({
  schedule: cronSchedule.default('15 * * * *'),
  windowDays: z
    .int()
    .min(1)
    .max(3650)
    .default(workloadDefault(backfillEnv, 'BACKFILL_WINDOW_DAYS'))
    .describe('How far back gaps are looked for.'),
  suspend: z.boolean().default(false).describe('Stop scheduling backfill runs.'),
  activeDeadlineSeconds: z
    .int()
    .min(60)
    .max(24 * 3600)
    .default(3000)
    .describe('A run still going after this is stopped.'),
  resources: resources.optional(),
});

const component = z.object({ resources: resources.optional() });

// No defaults for repository and tag: an unset one is the operator's (WORKLOAD_IMAGE_*, the
// chart's workloadImage, itself the chart's appVersion), so upgrading the chart upgrades the
// pipelines that do not pin an image. A default here would be stored in every object.
const image = z.object({
  repository: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("Default: the operator's workload image repository (the chart's workloadImage.repository)."),
  tag: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w][\w.-]*$/)
    .optional()
    .describe("Default: the operator's workload image tag (the chart's appVersion), unless digest is set."),
  digest: z
    .string()
    .regex(/^sha256:[a-f0-9]{64}$/, 'sha256: and 64 lowercase hex digits')
    .optional()
    .describe('Pins the image by content (repository@digest); takes precedence over tag.'),
  pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  pullSecrets: z
    .array(z.object({ name: objectName }))
    .max(10)
    .optional()
    .describe('imagePullSecrets of every pod.'),
});

export const specSchema = z
  .object({
    symbols: z
      .array(symbol)
      .min(1)
      .max(100)
      .describe('Symbols to collect, e.g. ["EUR/USD", "XAU/USD"].')
      .meta({ 'x-kubernetes-list-type': 'set' }),
    pipSizes: z
      .record(symbol, z.number().positive().max(1000))
      .optional()
      .describe('Pip size per symbol, overriding the default (0.0001; 0.01 for JPY quotes and XAU/USD).')
      .meta({ maxProperties: 100 }),
    timeframes: z
      .array(z.enum(TIMEFRAMES))
      .min(1)
      .max(TIMEFRAMES.length)
      .default([...TIMEFRAMES])
      .describe('Bar timeframes; one aggregator CronJob each.')
      .meta({ 'x-kubernetes-list-type': 'set' }),
    tenantId: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9_-]*$/)
      .default('system'),
    source,
    nats,
    kafka: kafka.optional(),
    timescaledb,
    clickhouse,
    cache: cache.optional(),
    bridge: bridge.prefault({}),
    collector: component.prefault({}).describe('The collector (always exactly one replica).'),
    aggregator: component
      .extend({
        lookbackBars: z
          .int()
          .min(0)
          .max(1000)
          .default(workloadDefault(aggregatorEnv, 'AGGREGATE_LOOKBACK_BARS'))
          .describe('Closed bars before the last one that each run builds again (late ticks).'),
      })
      .prefault({})
      .describe('The aggregator runs (one CronJob per timeframe).'),
    migrate: component.prefault({}).describe('The schema migration Job.'),
    backfill: backfill.prefault({}),
    image: image.prefault({}),
    logLevel: opsEnv.shape.LOG_LEVEL,
  })
  .meta(
    cel(
      {
        rule: '!has(self.pipSizes) || self.pipSizes.all(k, k in self.symbols)',
        message: 'every key of spec.pipSizes must be one of spec.symbols',
        fieldPath: '.pipSizes',
      },
      {
        rule: "!has(self.pipSizes) || self.pipSizes.all(k, k.matches('^[A-Z]{3}/[A-Z]{3}$'))",
        message: 'keys of spec.pipSizes are symbols such as EUR/USD',
        fieldPath: '.pipSizes',
      },
    ),
  );

/** Kubernetes' metav1.Condition. */
export const conditionSchema = z.object({
  type: z
    .string()
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
    ),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
  lastTransitionTime: z.string().meta({ format: 'date-time' }),
  observedGeneration: z.int().min(0).optional(),
});

const replicaStatus = z.object({
  desired: z.int().min(0),
  ready: z.int().min(0),
  available: z.int().min(0).optional(),
});

const scheduleStatus = z.object({
  lastScheduleTime: z.string().meta({ format: 'date-time' }).optional(),
  lastSuccessfulTime: z.string().meta({ format: 'date-time' }).optional(),
  active: z.int().min(0).optional(),
});

export const statusSchema = z.object({
  observedGeneration: z.int().min(0).optional(),
  conditions: z
    .array(conditionSchema)
    .max(32)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  collector: replicaStatus.optional(),
  bridge: replicaStatus.optional(),
  simulator: replicaStatus.optional(),
  aggregators: z
    .array(scheduleStatus.extend({ timeframe: z.enum(TIMEFRAMES) }))
    .max(TIMEFRAMES.length)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['timeframe'] }),
  backfill: scheduleStatus.optional(),
});

/** Rules on the whole object: they see metadata.name. */
export const ROOT_VALIDATIONS: CelRule[] = [
  {
    // The longest child name, `<name>-aggregator-15m`, is a CronJob name, which Kubernetes
    // limits to 52 characters (it appends 11 for the Jobs it creates).
    rule: 'size(self.metadata.name) <= 37',
    message: 'metadata.name must be at most 37 characters (CronJob <name>-aggregator-15m must fit in 52)',
  },
  {
    // Service names (<name>-metrics, <name>-simulator) must be DNS-1035 labels.
    rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
    message: 'metadata.name must start with a letter and contain only a-z, 0-9 and -',
  },
  {
    // A pipeline relaying its own ticks would wait for itself forever. (Only metadata.name is
    // visible here; the same pipeline named with its namespace is caught by the operator.)
    rule:
      '!has(self.spec.source.relay) || has(self.spec.source.relay.namespace) || ' +
      'self.spec.source.relay.pipeline != self.metadata.name',
    message: 'spec.source.relay.pipeline must name another MarketPipeline, not this one',
    fieldPath: '.spec.source.relay.pipeline',
  },
];

export type MarketPipelineSpecInput = z.input<typeof specSchema>;
/** The spec with every default applied (as the API server stores it). */
export type MarketPipelineSpec = z.output<typeof specSchema>;
export type MarketPipelineStatus = z.output<typeof statusSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type SecretKeyRef = z.output<typeof secretKeyRef>;
export type Resources = z.output<typeof resources>;

export interface MarketPipeline {
  apiVersion: `${typeof API_GROUP}/${typeof API_VERSION}`;
  kind: typeof KIND;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec: MarketPipelineSpec;
  status?: MarketPipelineStatus;
}
