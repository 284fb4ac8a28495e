// The bridge with the latest-quote cache (a redis-server of this test's own) and the
// long-term tick store (ClickHouse `ticks`) enabled, against real servers: both receive what
// the databases committed; the cache going away never holds back a database write and
// catches up when it returns; ClickHouse going away never holds back PostgreSQL ingestion.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { STREAMS } from '../contracts/subjects.js';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  natsClient,
  startInProcess,
  tickCount,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { barOutgoing, makeBar, makeTick, tickOutgoing } from '../../../test/support/market-messages.js';
import { freePort, startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { cacheClient, startPrivateRedis, type PrivateRedis } from '../../../test/support/private-redis.js';
import { waitFor } from '../../../test/support/wait.js';
import { ensureBuilt, runCli } from '../../../test/support/built-cli.js';
import { barKey, tickKey, type CachedBar, type CachedTick } from '../cache/keys.js';
import { CLICKHOUSE_TICKS_DURABLE } from './clickhouse-ticks.js';

// jest.config.js sets testTimeout inside the integration project, where Jest ignores it.
jest.setTimeout(180_000);

const HOUR = 3_600_000;

describe('bridge with the cache and the ClickHouse tick store', () => {
  let nats: PrivateNats;
  let dbs: TestDatabases;
  let client: NatsClient;
  let cacheServer: PrivateRedis;
  let redis: Redis | undefined;

  beforeAll(async () => {
    nats = await startPrivateNats();
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
    client = await natsClient(nats);
    cacheServer = await startPrivateRedis();
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await nats?.close();
    await cacheServer?.close();
    await dbs?.drop();
  });

  const cached = async <T>(key: string): Promise<T | undefined> => {
    redis ??= await cacheClient(cacheServer.env);
    const v = await redis.hget(key, 'v');
    return v === null ? undefined : (JSON.parse(v) as T);
  };
  const storedTicks = async (symbol: string) =>
    Number(
      (
        await chRows<{ n: string }>(
          dbs,
          'SELECT count() AS n FROM ticks FINAL WHERE tenant_id = {t:String} AND symbol = {s:String}',
          { t: 'system', s: symbol },
        )
      )[0]!.n,
    );

  it('caches the newest committed tick and bar, stores every tick once in ClickHouse, and rides out a cache outage', async () => {
    const b = await startInProcess(
      bridgeEnv(nats, dbs.env, { ...cacheServer.env, CLICKHOUSE_TICKS_ENABLED: 'true' }),
    );
    try {
      const t0 = Date.now() - 2 * HOUR;
      const ticks = Array.from({ length: 300 }, (_, i) =>
        makeTick({ symbol: i % 2 ? 'GBP/USD' : 'EUR/USD', timestamp_ms: t0 + i * 10, bid: 1.08 + i / 1e5 }),
      );
      // Newest first: what arrives last is not what is newest.
      await client.publish(ticks.toReversed().map(tickOutgoing));
      // The same quotes again under new message ids (past the duplicate window): one row each.
      await client.publish(
        ticks.slice(0, 50).map((t) => ({ ...tickOutgoing(t), msgId: `again:${t.timestamp_ms}` })),
      );
      const barStart = Math.floor(t0 / 300_000) * 300_000;
      const live = makeBar({ timestamp_ms: barStart, close: 1.0852 });
      const historical = makeBar({ timestamp_ms: barStart, source: 'polygon_historical', close: 1.07 });
      await client.publish([barOutgoing(live), barOutgoing(historical)]);

      await waitFor(
        'ticks in PostgreSQL',
        () => tickCount(dbs),
        (n) => n === 300,
      );
      await waitFor(
        'ticks in ClickHouse',
        () => Promise.all([storedTicks('EUR/USD'), storedTicks('GBP/USD')]),
        (n) => n[0] === 150 && n[1] === 150,
      );
      await waitFor(
        'the cache',
        async () => [
          (await cached<CachedTick>(tickKey('system', 'EUR/USD')))?.timestamp_ms,
          (await cached<CachedTick>(tickKey('system', 'GBP/USD')))?.timestamp_ms,
          (await cached<CachedBar>(barKey('system', 'EUR/USD', '5m')))?.close,
        ],
        (v) => v[0] === t0 + 2980 && v[1] === t0 + 2990 && v[2] === 1.0852,
      );
      // The tick store's counters are its own: the PostgreSQL worker's stay at what it wrote.
      await waitFor(
        'the PostgreSQL worker acks',
        () => b.metric('market_pipeline_bridge_messages_acked_total', { kind: 'tick' }),
        (n) => n === 350,
      );
      await waitFor(
        'the tick store acks',
        () => b.metric('market_pipeline_bridge_messages_acked_total', { kind: 'tick_store' }),
        (n) => n === 350,
      );
      // Redelivered quotes stayed one row each.
      expect([await storedTicks('EUR/USD'), await storedTicks('GBP/USD')]).toEqual([150, 150]);

      // The cache goes away: every tick is still written and acked, the failures are counted.
      await cacheServer.stop();
      redis?.disconnect();
      redis = undefined;
      const later = Array.from({ length: 1000 }, (_, i) =>
        makeTick({ symbol: 'EUR/USD', timestamp_ms: t0 + HOUR + i, bid: 1.09 + i / 1e5 }),
      );
      await client.publish(later.map(tickOutgoing));
      await waitFor(
        'ticks in PostgreSQL during the outage',
        () => tickCount(dbs),
        (n) => n === 1300,
      );
      await waitFor(
        'all acked',
        () => client.jsm.consumers.info(STREAMS.ticks.name, 'bridge-ticks'),
        (c) => c.num_pending === 0 && c.num_ack_pending === 0,
      );
      expect(await b.metric('market_pipeline_bridge_messages_acked_total', { kind: 'tick' })).toBe(1350);
      await waitFor(
        'cache failures',
        () => b.metric('market_pipeline_bridge_cache_failures_total'),
        (n) => n > 0,
      );
      expect(await b.metric('market_pipeline_bridge_cache_up')).toBe(0);

      // Back (empty): the newest values the bridge held arrive with no new tick.
      await cacheServer.start();
      await waitFor(
        'the cache to catch up',
        async () => (await cached<CachedTick>(tickKey('system', 'EUR/USD')))?.timestamp_ms,
        (v) => v === t0 + HOUR + 999,
        20_000,
      );
      expect((await cached<CachedBar>(barKey('system', 'EUR/USD', '5m')))?.close).toBe(1.0852);

      // The dashboard reads the latest quotes and bars from the cache when it has one.
      await ensureBuilt();
      const shown = await runCli(['dashboard', '--once'], { ...dbs.env, ...cacheServer.env });
      const screen = shown.lines.join('\n');
      expect(shown.code === 0 ? '' : screen).toBe(''); // (the screen, when it failed)
      expect(screen).toMatch(/^symbol\s+bid\s+ask\s+spread \(pips\)\s+quote time/m);
      expect(screen).toMatch(
        new RegExp(
          `^EUR/USD\\s+1\\.09999\\s+1\\.085\\s+2\\s+${new Date(t0 + HOUR + 999).toISOString().slice(0, 19).replace('T', ' ')}`,
          'm',
        ),
      );
      expect(screen).toMatch(/^EUR\/USD\s+5m\s+.*1\.0852\s+120\s+live_aggregated$/m);
    } finally {
      await b.bridge.stop();
    }
  });

  it('keeps writing PostgreSQL while ClickHouse is unreachable; the tick store catches up afterwards', async () => {
    const unreachable = { CLICKHOUSE_PORT: String(await freePort()), CLICKHOUSE_TICKS_ENABLED: 'true' };
    const before = await tickCount(dbs);
    const t0 = Date.now() - 3 * HOUR;
    const ticks = Array.from({ length: 200 }, (_, i) =>
      makeTick({ symbol: 'USD/CHF', timestamp_ms: t0 + i, bid: 0.88 + i / 1e5, ask: 0.8802 + i / 1e5 }),
    );
    const down = await startInProcess(bridgeEnv(nats, dbs.env, unreachable));
    try {
      await client.publish(ticks.map(tickOutgoing));
      await waitFor(
        'ticks in PostgreSQL',
        () => tickCount(dbs),
        (n) => n === before + 200,
      );
      await waitFor(
        'PostgreSQL consumer done',
        () => client.jsm.consumers.info(STREAMS.ticks.name, 'bridge-ticks'),
        (c) => c.num_pending === 0 && c.num_ack_pending === 0,
      );
      const store = await client.jsm.consumers.info(STREAMS.ticks.name, CLICKHOUSE_TICKS_DURABLE);
      expect(store.num_pending + store.num_ack_pending).toBe(200);
    } finally {
      await down.bridge.stop();
    }
    const up = await startInProcess(bridgeEnv(nats, dbs.env, { CLICKHOUSE_TICKS_ENABLED: 'true' }));
    try {
      await waitFor(
        'the tick store to catch up',
        () => storedTicks('USD/CHF'),
        (n) => n === 200,
      );
    } finally {
      await up.bridge.stop();
    }
  });
});
