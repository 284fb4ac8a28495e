// Shared by the bridge's integration tests: a private NATS, fresh databases with migrate
// applied, a publisher, and readers of what landed in the databases.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { startBridge, type Bridge } from '../../workloads/src/bridge/bridge.js';
import { bridgeConfigSchema } from '../../workloads/src/bridge/config.js';
import { clickhouseEnv, migrateEnv, retentionEnv, timescaleEnv } from '../../workloads/src/contracts/env.js';
import { runMigrate } from '../../workloads/src/migrate/migrate.js';
import { DEFAULT_STREAM_SETTINGS, ensureStreams } from '../../workloads/src/nats/streams.js';
import { publishConfirmed, type Outgoing } from '../../workloads/src/nats/publish.js';
import { loadConfig } from '../../workloads/src/runtime/config.js';
import { createLogger, type Logger } from '../../workloads/src/runtime/logger.js';
import type { TestDatabases } from './databases.js';
import { metricValue } from './metrics.js';
import type { PrivateNats } from './private-nats.js';

export const quietLog: Logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

const migrateSchema = timescaleEnv
  .extend(clickhouseEnv.shape)
  .extend(retentionEnv.shape)
  .extend(migrateEnv.shape);

export async function migrateInto(env: Record<string, string>): Promise<void> {
  await runMigrate(loadConfig(migrateSchema, { MIGRATE_WAIT_SECONDS: '10', ...env }), quietLog);
}

export interface NatsClient {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  publish(messages: Outgoing[]): Promise<void>;
  close(): Promise<void>;
}

export async function natsClient(nats: PrivateNats): Promise<NatsClient> {
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, DEFAULT_STREAM_SETTINGS);
  return {
    nc,
    js,
    jsm,
    publish: async (messages) => void (await publishConfirmed(js, messages)),
    close: () => nc.close(),
  };
}

/** Environment of a bridge on the private NATS and the test's databases; small, fast batches. */
export function bridgeEnv(
  nats: PrivateNats,
  dbEnv: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...dbEnv,
    NATS_URL: nats.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    LIVE_BATCH_SIZE: '100',
    LIVE_BATCH_TIMEOUT: '0.3',
    HISTORICAL_BATCH_SIZE: '100',
    HISTORICAL_BATCH_TIMEOUT: '0.5',
    BRIDGE_ACK_WAIT: '5',
    ...extra,
  };
}

export interface InProcessBridge {
  bridge: Bridge;
  registry: Registry;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export async function startInProcess(env: Record<string, string>): Promise<InProcessBridge> {
  const registry = new Registry();
  const bridge = await startBridge(loadConfig(bridgeConfigSchema, env), quietLog, registry);
  return {
    bridge,
    registry,
    metric: (name, labels) => metricValue(registry, name, labels),
  };
}

export async function tickCount(dbs: TestDatabases, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const r = await dbs.pg.query(`SELECT count(*)::int AS n FROM market_ticks WHERE ${where}`, params);
  return r.rows[0].n;
}

export async function chRows<T>(
  dbs: TestDatabases,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const rs = await dbs.ch.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}
