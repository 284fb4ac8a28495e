// Environment variables the workloads read, grouped by what they configure. The keys are
// the variable names: the operator sets exactly these, and the workloads validate them.
import { z } from 'zod';
import { env } from '../runtime/config.js';
import { pipelineIdSchema, tenantIdSchema } from './subjects.js';
import { symbolSchema } from './symbols.js';
import { TIMEFRAMES, timeframeSchema } from './timeframes.js';

export const natsEnv = z.object({
  NATS_URL: env.url(['nats', 'tls']),
  /**
   * Names everything the pipeline creates on NATS (subjects, streams, inboxes, message ids;
   * contracts/subjects.ts). Unset: the seed's names (ticks.<SYM>, MARKET_TICKS, …), for one
   * pipeline on its NATS. The operator sets `<namespace>_<name>`, so pipelines sharing a NATS
   * never meet there.
   */
  PIPELINE_ID: pipelineIdSchema.optional(),
  /**
   * Credentials of the pipeline's own NATS user (at most one kind): user and password, an
   * nkey seed (SU…), or the content of a .creds file (JWT + nkey seed). Unset: no credentials
   * (or those in NATS_URL). See README "Many pipelines on one set of servers" for the
   * permissions such a user needs.
   */
  NATS_USER: env.string().optional(),
  NATS_PASSWORD: env.string().optional(),
  NATS_NKEY_SEED: env.string().optional(),
  NATS_CREDS: env.string().optional(),
  /** How long JetStream keeps messages (seconds). */
  NATS_STREAM_MAX_AGE_SECONDS: env.positiveInt().default(7 * 24 * 3600),
  /** Duplicate window of the streams (seconds). */
  NATS_DUPLICATE_WINDOW_SECONDS: env.positiveInt().default(120),
});

export const kafkaEnv = z.object({
  /** Optional: without it, nothing is archived to Kafka. */
  KAFKA_BROKERS: env.list(z.string().regex(/^[^\s:]+:\d+$/, 'each broker is host:port')).optional(),
  KAFKA_TICK_TOPIC: env.string().default('tick_archive'),
  KAFKA_AGGREGATE_TOPIC: env.string().default('aggregate_archive'),
  KAFKA_CLIENT_ID: env.string().default('market-pipeline'),
});

export const timescaleEnv = z.object({
  TIMESCALEDB_HOST: env.string(),
  TIMESCALEDB_PORT: env.port().default(5432),
  TIMESCALEDB_DATABASE: env.string().default('suho_trading'),
  TIMESCALEDB_USER: env.string(),
  TIMESCALEDB_PASSWORD: env.string(),
  TIMESCALEDB_POOL_SIZE: env.positiveInt().default(4),
});

export const clickhouseEnv = z.object({
  CLICKHOUSE_HOST: env.string(),
  CLICKHOUSE_PORT: env.port().default(8123),
  /** http or https. */
  CLICKHOUSE_PROTOCOL: z.enum(['http', 'https']).default('http'),
  CLICKHOUSE_DATABASE: env.string().default('suho_analytics'),
  CLICKHOUSE_USER: env.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
});

/**
 * The latest-quote cache (seed: DragonflyDB; any Redis-protocol server). Optional: without
 * DRAGONFLYDB_HOST nothing is cached and the dashboard reads the databases. The bridge
 * writes it after each commit, never on the path that acknowledges messages (cache/).
 */
export const cacheEnv = z.object({
  DRAGONFLYDB_HOST: env.string().optional(),
  DRAGONFLYDB_PORT: env.port().default(6379),
  DRAGONFLYDB_PASSWORD: z.string().optional(),
  /**
   * How long a cached value lives without being replaced (seconds). A week by default: the
   * last quote of Friday is still there on Monday morning, and a symbol no longer subscribed
   * disappears on its own.
   */
  CACHE_TTL_SECONDS: env.positiveInt().default(7 * 24 * 3600),
});

/**
 * The optional long-term tick store: ClickHouse `ticks` (schemas/clickhouse/004_ticks.sql),
 * written by the bridge through its own durable consumer when enabled (bridge/clickhouse-ticks.ts).
 */
export const clickhouseTicksEnv = z.object({
  CLICKHOUSE_TICKS_ENABLED: env.boolean().default(false),
});

/** PIP_SIZES="XAU/USD=0.01,XAG/USD=0.001": overrides of the default pip per symbol. */
const pipSizesVar = z
  .string()
  .transform((s, ctx) => {
    const out: Record<string, number> = {};
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [sym, size] = part.split('=');
      const n = Number(size);
      if (!sym || !symbolSchema.safeParse(sym.trim()).success || !(n > 0)) {
        ctx.addIssue({ code: 'custom', message: `'${part}' is not SYMBOL=positive number` });
        return z.NEVER;
      }
      out[sym.trim()] = n;
    }
    return out;
  })
  .default({});

export const tenantEnv = z.object({
  /** Tenant of the rows this pipeline stores, carried in every message and event it produces. */
  TENANT_ID: tenantIdSchema.default('system'),
});

export const marketEnv = tenantEnv.extend({
  SYMBOLS: env.list(symbolSchema),
  PIP_SIZES: pipSizesVar,
});

/**
 * Retention and compression of the stored data. `migrate` reconciles the databases to
 * these; on plain PostgreSQL (no TimescaleDB) the bridge deletes expired ticks itself.
 */
export const retentionEnv = z.object({
  TIMESCALEDB_RETENTION_DAYS: env.positiveInt().default(90),
  TIMESCALEDB_COMPRESS_AFTER_DAYS: env.positiveInt().default(7),
  CLICKHOUSE_RETENTION_DAYS: env.positiveInt().default(3650),
  /** TTL of the long-term tick store, ClickHouse `ticks` (created whether the bridge writes it or not). */
  CLICKHOUSE_TICKS_RETENTION_DAYS: env.positiveInt().default(3650),
});

/** The `migrate` command (a Job that may start before the databases are up). */
export const migrateEnv = z.object({
  /** How long to wait for each database to accept connections (seconds). */
  MIGRATE_WAIT_SECONDS: env.positiveInt().default(300),
  /** Folder with timescaledb/ and clickhouse/; found next to the package when unset. */
  SCHEMAS_DIR: env.string().optional(),
});

/**
 * Batching of the bridge (seed names; timeouts in seconds, decimals allowed, read as ms).
 * "Live" covers ticks and live_aggregated bars; "historical" the polygon_historical bars.
 * Defaults measured with the first bridge benchmarks (since folded into bench/e2e-latency.ts
 * and bench/bridge-ingest.ts): a live timeout of 1 s (seed: 5 s) puts a tick in PostgreSQL
 * within ~1.1 s instead of ~5 s for one small write per second (~2 ms each at 100
 * ticks/s); 1000 rows is where the cost per tick stops falling (~70k rows/s). Historical
 * bars arrive in bulk, where ClickHouse wants large inserts: 5000 per insert (seed: 1000)
 * wrote ~2.9x the rows per second.
 */
export const bridgeEnv = z.object({
  LIVE_BATCH_SIZE: env.positiveInt().default(1000),
  LIVE_BATCH_TIMEOUT: env.secondsAsMs().default(1_000),
  HISTORICAL_BATCH_SIZE: env.positiveInt().default(5000),
  HISTORICAL_BATCH_TIMEOUT: env.secondsAsMs().default(10_000),
  /**
   * JetStream ack_wait of the bridge consumers (seconds, at least 1): how long a killed
   * replica's unacked messages wait before the server hands them to another. A live replica
   * sends working() for what it holds every third of it (while a batch fills, is written or
   * is retried through an outage), so a slow write is not redelivered. 5 s (was 60): p99
   * tick delay through a replica's kill -9 of a few seconds (bench/bridge-failover.ts).
   */
  BRIDGE_ACK_WAIT: env.secondsAsMs().default(5_000),
  /**
   * How long a batch still waits for more once the stream had nothing more to give
   * (seconds; at most the batch timeout): 0.05 puts a tick in PostgreSQL within ~50 ms
   * plus the write at light load and bounds the writes to 20 a second (bridge/batch.ts).
   */
  BRIDGE_DRAINED_LINGER: env.secondsAsMs().default(50),
  /**
   * Batches of one stream a replica writes at the same time, each on its own connection
   * (so at most this many of TIMESCALEDB_POOL_SIZE's connections). With 1 the database's
   * time per batch set the pace while the replica waited; 2 keeps both busy
   * (bench/bridge-ingest.ts).
   */
  BRIDGE_WRITE_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(2),
  /** How often the bridge deletes expired ticks on plain PostgreSQL (seconds). */
  BRIDGE_RETENTION_INTERVAL: env.secondsAsMs().default(3600_000),
});

export const aggregatorEnv = z.object({
  /**
   * Closed bars before the last one that every scheduled aggregator run builds again, to
   * pick up ticks that reached the database late (bridge lag, replays after an outage).
   */
  AGGREGATE_LOOKBACK_BARS: z.coerce.number().int().min(0).max(1000).default(2),
  /**
   * How long a run waits at most for the collector's coverage to reach the end of its bars
   * and for the bridge to commit the ticks up to there (the watermark). Bars still not
   * covered and committed then are published marked partial (README "Coverage, watermark
   * and precedence").
   */
  AGGREGATE_WATERMARK_WAIT_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  /**
   * Which time must be covered for a bar to be complete: \`forex\` (Sunday 17:00 to Friday
   * 17:00 New York; weekends are never gaps) or \`always\` (a feed that streams every day,
   * such as the simulator with SIMULATOR_RESPECT_MARKET_HOURS=false).
   */
  AGGREGATE_COVERAGE_HOURS: z.enum(['forex', 'always']).default('forex'),
});

export const opsEnv = z.object({
  METRICS_PORT: env.port().default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

/**
 * The collector (Polygon WebSocket → NATS). Reconnect delays and buffer bound are tunable
 * so that tests can shorten them; the defaults are the production choices.
 */
export const collectorEnv = z.object({
  POLYGON_WS_URL: env.url(['ws', 'wss']).default('wss://socket.massive.com/forex'),
  POLYGON_API_KEY: env.string(),
  /**
   * Ticks held in memory until JetStream confirms them (queued + in flight). A buffered tick
   * costs about 0.45 KB of heap (its JSON, id and bookkeeping; measured), so 200k ≈ 90 MB:
   * at the ~10 quotes/s of ten pairs that rides out five hours of NATS outage, at a C.*
   * rate of ~1k/s about three minutes. Past it the newest ticks are dropped and reported
   * as a feed gap (see collector/collector.ts).
   */
  COLLECTOR_BUFFER_MAX_TICKS: env.positiveInt().default(200_000),
  /** Publishes awaiting JetStream's confirmation at once. */
  COLLECTOR_PUBLISH_WINDOW: env.positiveInt().default(1000),
  /** A publish not confirmed within this time is sent again (same message id). */
  COLLECTOR_PUBLISH_TIMEOUT_MS: env.positiveInt().default(5000),
  /** Warn when a subscribed symbol sends nothing for this long while the forex market is open. */
  COLLECTOR_STALE_AFTER_SECONDS: env.positiveInt().default(300),
  COLLECTOR_RECONNECT_MIN_MS: env.positiveInt().default(1000),
  COLLECTOR_RECONNECT_MAX_MS: env.positiveInt().default(30_000),
  /** First delay after Polygon evicted us for another connection with the same key (max_connections). */
  COLLECTOR_EVICTED_RECONNECT_MS: env.positiveInt().default(60_000),
  /** Time allowed from socket open to auth_success. */
  COLLECTOR_AUTH_TIMEOUT_MS: env.positiveInt().default(10_000),
  /** On SIGTERM, how long to keep publishing buffered ticks before giving up on them. */
  COLLECTOR_SHUTDOWN_FLUSH_MS: env.positiveInt().default(10_000),
  /**
   * How often the collector sends a coverage marker (events.coverage): the span it saw
   * completely and JetStream confirmed. The aggregator waits (AGGREGATE_WATERMARK_WAIT_SECONDS)
   * for coverage to reach a bar's end, so this is about the delay added to each bar.
   */
  COLLECTOR_COVERAGE_INTERVAL_MS: env.positiveInt().default(5000),
  /** Coverage ends this long before the marker's wall-clock time: quotes still on their way. */
  COLLECTOR_COVERAGE_SKEW_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Ticks per Kafka send of the archive consumer (when KAFKA_BROKERS is set). */
  COLLECTOR_ARCHIVE_BATCH_SIZE: env.positiveInt().default(1000),
});

/**
 * The relay (collector of a pipeline whose source is another pipeline: one Polygon key,
 * several pipelines). It reads the source pipeline's tick and feed-gap streams through its own
 * durable consumers and republishes its SYMBOLS under its own names and tenant
 * (workloads/src/relay/relay.ts).
 */
export const relayEnv = z.object({
  /** PIPELINE_ID of the pipeline relayed from (`<namespace>_<name>`). */
  RELAY_SOURCE_PIPELINE_ID: pipelineIdSchema,
  /** Its tenant: only messages of that tenant are relayed. */
  RELAY_SOURCE_TENANT_ID: tenantIdSchema,
  /** Ticks pulled, republished and acked at once. */
  RELAY_BATCH_SIZE: env.positiveInt().default(500),
  /** Time the source stream waits for the relay's ack before redelivering (ms). */
  RELAY_ACK_WAIT_MS: env.positiveInt().default(30_000),
});

/**
 * The backfill (gap filler: ClickHouse gaps and recorded feed gaps → Polygon REST → NATS).
 * The first run of a symbol and timeframe covers BACKFILL_WINDOW_DAYS; later runs cover the
 * last BACKFILL_RECENT_DAYS, reaching further back when the previous run is older (see
 * backfill/README.md, "Which window").
 */
export const backfillEnv = z.object({
  POLYGON_REST_URL: env.url(['http', 'https']).default('https://api.massive.com'),
  POLYGON_API_KEY: env.string(),
  /** The plan's limit: 5 on the free plan; paid plans are unlimited (use e.g. 6000). */
  POLYGON_REST_REQUESTS_PER_MINUTE: env.positiveInt().default(5),
  BACKFILL_WINDOW_DAYS: env.positiveInt().default(730),
  BACKFILL_RECENT_DAYS: env.positiveInt().default(3),
  BACKFILL_TIMEFRAMES: env.list(timeframeSchema).default([...TIMEFRAMES]),
  /**
   * Bars that ended less than this long ago are left alone: the aggregator is still building
   * them, and Polygon may not have published them yet (so an empty answer would not be final).
   */
  BACKFILL_SETTLE_MINUTES: z.coerce.number().int().min(0).max(10_080).default(60),
});
