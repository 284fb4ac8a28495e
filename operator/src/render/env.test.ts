import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../workloads/src/runtime/config.js';
import {
  aggregatorEnv,
  bridgeEnv,
  cacheEnv,
  clickhouseEnv,
  clickhouseTicksEnv,
  kafkaEnv,
  marketEnv,
  migrateEnv,
  natsEnv,
  opsEnv,
  retentionEnv,
  timescaleEnv,
} from '../../../workloads/src/contracts/env.js';
import { makePipeline, polygonSource } from '../../test/support/pipelines.js';
import { pipelineIdSchema } from '../../../workloads/src/contracts/subjects.js';
import { clickhouseParts, configData, secretEnv } from './env.js';
import { mergeResources, parseQuantity } from './pod.js';

describe('workload environment rendered from the spec', () => {
  it('holds every non-secret setting, with the variable names the workloads read', () => {
    const p = makePipeline({
      source: polygonSource,
      pipSizes: { 'XAU/USD': 0.01, 'EUR/USD': 0.0001 },
      kafka: { brokers: ['k1:9092', 'k2:9092'] },
      bridge: { live: { batchSize: 250, batchTimeoutSeconds: 2.5 } },
    });
    expect(configData('fx', p.spec, 'market')).toEqual({
      SYMBOLS: 'EUR/USD,XAU/USD',
      PIP_SIZES: 'EUR/USD=0.0001,XAU/USD=0.01',
      TENANT_ID: 'system',
      PIPELINE_ID: 'market_fx',
      LOG_LEVEL: 'info',
      METRICS_PORT: '9464',
      NATS_URL: 'nats://nats:4222',
      NATS_STREAM_MAX_AGE_SECONDS: '604800',
      NATS_DUPLICATE_WINDOW_SECONDS: '120',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      KAFKA_TICK_TOPIC: 'tick_archive',
      KAFKA_AGGREGATE_TOPIC: 'aggregate_archive',
      TIMESCALEDB_HOST: 'timescaledb',
      TIMESCALEDB_PORT: '5432',
      TIMESCALEDB_DATABASE: 'suho_trading',
      TIMESCALEDB_USER: 'suho_service',
      TIMESCALEDB_POOL_SIZE: '4',
      TIMESCALEDB_RETENTION_DAYS: '90',
      TIMESCALEDB_COMPRESS_AFTER_DAYS: '7',
      CLICKHOUSE_PROTOCOL: 'http',
      CLICKHOUSE_HOST: 'clickhouse',
      CLICKHOUSE_PORT: '8123',
      CLICKHOUSE_DATABASE: 'suho_analytics',
      CLICKHOUSE_USER: 'default',
      CLICKHOUSE_RETENTION_DAYS: '3650',
      CLICKHOUSE_TICKS_ENABLED: 'false',
      CLICKHOUSE_TICKS_RETENTION_DAYS: '3650',
      LIVE_BATCH_SIZE: '250',
      LIVE_BATCH_TIMEOUT: '2.5',
      HISTORICAL_BATCH_SIZE: '5000',
      HISTORICAL_BATCH_TIMEOUT: '10',
      BRIDGE_ACK_WAIT: '5',
      BRIDGE_WRITE_CONCURRENCY: '2',
      AGGREGATE_LOOKBACK_BARS: '2',
      BACKFILL_WINDOW_DAYS: '730',
      BACKFILL_TIMEFRAMES: '5m,15m,30m,1h,4h,1d,1w',
      POLYGON_WS_URL: 'wss://socket.massive.com/forex',
      POLYGON_REST_URL: 'https://api.massive.com',
      POLYGON_REST_REQUESTS_PER_MINUTE: '5',
    });
  });

  it('has the gap filler fill only the timeframes the pipeline aggregates', () => {
    const data = configData('fx', makePipeline({ timeframes: ['1h', '5m'] }).spec, 'markets');
    expect(data.BACKFILL_TIMEFRAMES).toBe('1h,5m');
  });

  it('names the pipeline after its namespace and name, and passes its own NATS credentials', () => {
    const p = makePipeline({
      nats: {
        url: 'nats://nats:4222',
        user: 'fx-a',
        passwordSecretRef: { name: 'nats-fx-a', key: 'password' },
      },
    });
    const data = configData('fx-a', p.spec, 'team-1');
    expect([data.PIPELINE_ID, data.NATS_USER]).toEqual(['team-1_fx-a', 'fx-a']);
    expect(pipelineIdSchema.safeParse(data.PIPELINE_ID).success).toBe(true);
    for (const component of ['collector', 'bridge', 'aggregator', 'backfill'] as const) {
      expect(secretEnv(component, p.spec).find((s) => s.env === 'NATS_PASSWORD')).toEqual({
        env: 'NATS_PASSWORD',
        ref: { name: 'nats-fx-a', key: 'password' },
        field: 'spec.nats.passwordSecretRef',
      });
    }
    expect(secretEnv('migrate', p.spec).map((s) => s.env)).not.toContain('NATS_PASSWORD');
    const creds = makePipeline({
      nats: { url: 'nats://nats:4222', credsSecretRef: { name: 'c', key: 'fx.creds' } },
    });
    expect(secretEnv('bridge', creds.spec).map((s) => s.env)).toContain('NATS_CREDS');
    expect(configData('fx-a', creds.spec, 'team-1').NATS_USER).toBeUndefined();
  });

  it('is accepted by the workloads’ own env schemas (what exists of them today)', () => {
    const data = configData(
      'fx',
      makePipeline({ kafka: { brokers: ['k1:9092'] }, pipSizes: { 'XAU/USD': 0.01 } }).spec,
      'market',
    );
    const schema = natsEnv
      .extend(kafkaEnv.shape)
      .extend(marketEnv.shape)
      .extend(opsEnv.shape)
      .extend(retentionEnv.shape)
      .extend(migrateEnv.shape)
      .extend(bridgeEnv.shape)
      .extend(aggregatorEnv.shape);
    expect(() => loadConfig(schema, data)).not.toThrow();
    expect(() => loadConfig(timescaleEnv, { ...data, TIMESCALEDB_PASSWORD: 'x' })).not.toThrow();
    expect(loadConfig(clickhouseEnv, { ...data, CLICKHOUSE_PASSWORD: 'x' })).toMatchObject({
      CLICKHOUSE_HOST: 'clickhouse',
      CLICKHOUSE_PORT: 8123,
      CLICKHOUSE_PROTOCOL: 'http',
    });
    expect(loadConfig(marketEnv, data).PIP_SIZES).toEqual({ 'XAU/USD': 0.01 });
  });

  it('defaults to what the workloads use when a variable is unset (one source of defaults)', () => {
    const data = configData('fx', makePipeline().spec, 'market');
    const pick = (o: Record<string, unknown>, keys: string[]) =>
      Object.fromEntries(keys.map((k) => [k, o[k]]));
    // PIPELINE_ID differs on purpose: unset by hand (the seed's names), <namespace>_<name> here.
    for (const schema of [
      bridgeEnv,
      clickhouseTicksEnv,
      retentionEnv,
      aggregatorEnv,
      natsEnv.omit({ NATS_URL: true, PIPELINE_ID: true }),
    ]) {
      const keys = Object.keys(schema.shape);
      expect(pick(loadConfig(schema, data), keys)).toEqual(pick(loadConfig(schema, {}), keys));
    }
  });

  it('passes the cache (seed names) and its password to the bridge only, and the tick store settings', () => {
    const spec = makePipeline({
      cache: { host: 'dragonfly', passwordSecretRef: { name: 'cache', key: 'password' } },
      clickhouse: { url: 'http://clickhouse:8123', ticks: { enabled: true, retentionDays: 1825 } },
    }).spec;
    const data = configData('fx', spec, 'market');
    expect(loadConfig(cacheEnv, data)).toEqual({
      DRAGONFLYDB_HOST: 'dragonfly',
      DRAGONFLYDB_PORT: 6379,
      CACHE_TTL_SECONDS: 604800,
    });
    expect(loadConfig(clickhouseTicksEnv, data)).toEqual({ CLICKHOUSE_TICKS_ENABLED: true });
    expect(loadConfig(retentionEnv, data).CLICKHOUSE_TICKS_RETENTION_DAYS).toBe(1825);
    expect(secretEnv('bridge', spec)).toContainEqual({
      env: 'DRAGONFLYDB_PASSWORD',
      ref: { name: 'cache', key: 'password' },
      field: 'spec.cache.passwordSecretRef',
    });
    for (const other of ['collector', 'aggregator', 'backfill', 'migrate'] as const)
      expect(secretEnv(other, spec).map((s) => s.env)).not.toContain('DRAGONFLYDB_PASSWORD');
    // No cache section: no cache variables, so the bridge runs without one.
    expect(
      Object.keys(configData('fx', makePipeline().spec, 'market')).filter((k) =>
        k.startsWith('DRAGONFLYDB_'),
      ),
    ).toEqual([]);
  });

  it('keeps the short bridge ack wait whatever the batch timeouts (held messages get progress replies)', () => {
    const data = configData(
      'fx',
      makePipeline({ bridge: { historical: { batchTimeoutSeconds: 45 } } }).spec,
      'market',
    );
    expect(data.BRIDGE_ACK_WAIT).toBe('5');
    expect(() => loadConfig(bridgeEnv, data)).not.toThrow();
  });

  it('leaves Kafka and pip overrides out when the spec has none', () => {
    const data = configData('fx', makePipeline().spec, 'market');
    expect(Object.keys(data).filter((k) => k.startsWith('KAFKA_') || k === 'PIP_SIZES')).toEqual([]);
  });

  it('splits the ClickHouse URL as URLs are read', () => {
    expect(clickhouseParts('http://clickhouse:8123')).toEqual({
      protocol: 'http',
      host: 'clickhouse',
      port: 8123,
    });
    expect(clickhouseParts('https://ch.example.com/')).toEqual({
      protocol: 'https',
      host: 'ch.example.com',
      port: 443,
    });
    expect(clickhouseParts('http://10.0.0.7')).toEqual({ protocol: 'http', host: '10.0.0.7', port: 80 });
  });
});

describe('resources', () => {
  it('parses quantities', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('256Mi')).toBe(256 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(() => parseQuantity('lots')).toThrow('not a quantity');
  });

  it('keeps a limit the user set even below the request (the API server reports it)', () => {
    expect(
      mergeResources(
        { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } },
        {
          requests: { memory: '1Gi' },
          limits: { memory: '512Mi' },
        },
      ),
    ).toEqual({ requests: { memory: '1Gi' }, limits: { memory: '512Mi' } });
  });
});
