// The latest-quote cache against a real Redis-protocol server (Debian's redis-server; the
// shared test server, and one of this test's own that it stops and starts): a value never
// goes backwards, whatever the order and concurrency of the writers; tenants never share a
// key; an outage is counted, never waited for, and the cache catches up when it returns.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { barRow, tickRow, type BarRow, type TickRow } from '../bridge/rows.js';
import { makeBar, makeTick } from '../../../test/support/market-messages.js';
import { metricValue } from '../../../test/support/metrics.js';
import {
  cacheClient,
  sharedCacheEnv,
  startPrivateRedis,
  type PrivateRedis,
} from '../../../test/support/private-redis.js';
import { uniqueSuffix } from '../../../test/support/servers.js';
import { waitFor } from '../../../test/support/wait.js';
import { quietLog } from '../../../test/support/bridge-harness.js';
import { barKey, tickKey, type CachedBar, type CachedTick } from './keys.js';
import { createCacheMetrics, LatestCache } from './latest-cache.js';

jest.setTimeout(60_000);

const TTL_SECONDS = 3600;

function newCache(env: Record<string, string>): { cache: LatestCache; registry: Registry } {
  const registry = new Registry();
  const cache = LatestCache.connect(
    {
      DRAGONFLYDB_HOST: env.DRAGONFLYDB_HOST!,
      DRAGONFLYDB_PORT: Number(env.DRAGONFLYDB_PORT),
      DRAGONFLYDB_PASSWORD: env.DRAGONFLYDB_PASSWORD,
    },
    { ttlSeconds: TTL_SECONDS, log: quietLog, metrics: createCacheMetrics(registry) },
  );
  return { cache, registry };
}

async function cached<T>(redis: Redis, key: string): Promise<T | undefined> {
  const v = await redis.hget(key, 'v');
  return v === null ? undefined : (JSON.parse(v) as T);
}

function ticksOf(tenant: string, symbol: string, count: number, t0: number): TickRow[] {
  return Array.from({ length: count }, (_, i) =>
    tickRow(makeTick({ symbol, timestamp_ms: t0 + i, bid: 1 + i / 1e5, ask: 1.0002 + i / 1e5 }), tenant),
  );
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('latest-quote cache (shared redis-server)', () => {
  const env = sharedCacheEnv();
  let redis: Redis;
  const caches: LatestCache[] = [];
  const open = () => {
    const c = newCache(env);
    caches.push(c.cache);
    return c;
  };

  beforeAll(async () => {
    redis = await cacheClient(env);
  });

  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    redis?.disconnect();
  });

  it('keeps the newest tick when four writers send the values in random order at the same time', async () => {
    const tenant = `t${uniqueSuffix()}`;
    const t0 = Date.UTC(2026, 0, 5, 10);
    const rows = [...ticksOf(tenant, 'EUR/USD', 400, t0), ...ticksOf(tenant, 'USD/JPY', 400, t0 + 7)];
    const writers = [open(), open(), open(), open()];
    // Small chunks, each writer flushing while the others do: the order the server sees is random.
    const chunks = shuffled(rows).reduce<TickRow[][]>((acc, r, i) => {
      (acc[i % 40] ??= []).push(r);
      return acc;
    }, []);
    await Promise.all(
      chunks.map(async (chunk, i) => {
        await new Promise((r) => setTimeout(r, Math.random() * 50));
        writers[i % 4]!.cache.offerTicks(chunk);
      }),
    );
    for (const w of writers) expect(await w.cache.settled()).toBe(true);
    expect((await cached<CachedTick>(redis, tickKey(tenant, 'EUR/USD')))?.timestamp_ms).toBe(t0 + 399);
    expect((await cached<CachedTick>(redis, tickKey(tenant, 'USD/JPY')))?.timestamp_ms).toBe(t0 + 7 + 399);
    const older = await Promise.all(
      writers.map((w) =>
        metricValue(w.registry, 'market_pipeline_bridge_cache_updates_total', {
          kind: 'tick',
          outcome: 'older',
        }),
      ),
    );
    // Some writer sent a value after a newer one was stored, and the server refused it.
    expect(older.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('never lets an older tick arriving later overwrite a newer one', async () => {
    const tenant = `t${uniqueSuffix()}`;
    const [newer, older] = [open(), open()];
    const [first, second] = ticksOf(tenant, 'EUR/USD', 2, Date.UTC(2026, 0, 5, 10));
    newer.cache.offerTicks([second!]);
    await newer.cache.settled();
    older.cache.offerTicks([first!]);
    await older.cache.settled();
    expect(await cached<CachedTick>(redis, tickKey(tenant, 'EUR/USD'))).toMatchObject({
      timestamp_ms: second!.timestamp_ms,
      bid: second!.bid,
    });
    expect(
      await metricValue(older.registry, 'market_pipeline_bridge_cache_updates_total', {
        kind: 'tick',
        outcome: 'older',
      }),
    ).toBe(1);
  });

  it('ranks bars as ClickHouse does: a later bar, else the higher version; a lower-ranked bar arriving later never wins', async () => {
    const tenant = `t${uniqueSuffix()}`;
    const start = Date.UTC(2026, 0, 5, 10, 0);
    const bar = (o: Parameters<typeof makeBar>[0]): BarRow => barRow(makeBar(o), tenant);
    const repair = bar({
      timestamp_ms: start,
      source: 'polygon_historical',
      feed_gap_repair: true,
      close: 1.2,
    });
    const live = bar({ timestamp_ms: start, source: 'live_aggregated', close: 1.1 });
    const liveRebuilt = bar({
      timestamp_ms: start,
      source: 'live_aggregated',
      close: 1.15,
      ingested_at: new Date(start + 3_600_000).toISOString(),
    });
    const historical = bar({ timestamp_ms: start, source: 'polygon_historical', close: 1.0 });
    const key = barKey(tenant, 'EUR/USD', '5m');
    // One writer per value, each settled before the next: only the server's compare decides.
    const send = async (b: BarRow) => {
      const w = open();
      w.cache.offerBars([b]);
      await w.cache.settled();
    };
    await send(live);
    await send(historical); // rank 1 after rank 2
    expect((await cached<CachedBar>(redis, key))?.close).toBe(1.1);
    await send(liveRebuilt); // same rank, built later
    expect((await cached<CachedBar>(redis, key))?.close).toBe(1.15);
    await send(repair); // rank 3
    await send(live); // a redelivery of the older live bar
    expect(await cached<CachedBar>(redis, key)).toMatchObject({ close: 1.2, version: repair.version });
    // The next bar replaces it whatever its rank; the previous bar never comes back.
    const next = bar({ timestamp_ms: start + 300_000, source: 'polygon_historical', close: 1.3 });
    await send(next);
    await send(repair);
    expect(await cached<CachedBar>(redis, key)).toMatchObject({ close: 1.3, timestamp_ms: start + 300_000 });
    // A bar lives CACHE_TTL_SECONDS plus its timeframe (5 min).
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(TTL_SECONDS * 1000);
    expect(ttl).toBeLessThanOrEqual((TTL_SECONDS + 300) * 1000);
    const tick = open();
    tick.cache.offerTicks(ticksOf(tenant, 'EUR/USD', 1, start));
    await tick.cache.settled();
    const tickTtl = await redis.pttl(tickKey(tenant, 'EUR/USD'));
    expect(tickTtl).toBeGreaterThan(0);
    expect(tickTtl).toBeLessThanOrEqual(TTL_SECONDS * 1000);
  });

  it('keeps tenants apart: the same symbol of two tenants is two keys, each with its own value', async () => {
    const [a, b] = [`a${uniqueSuffix()}`, `b${uniqueSuffix()}`];
    const w = open();
    const t = Date.UTC(2026, 0, 5, 10);
    w.cache.offerTicks([
      tickRow(makeTick({ timestamp_ms: t, bid: 1.1, ask: 1.1002 }), a),
      // tenant b's tick is newer: it must not replace a's
      tickRow(makeTick({ timestamp_ms: t + 1000, bid: 1.3, ask: 1.3002 }), b),
    ]);
    await w.cache.settled();
    expect(await cached<CachedTick>(redis, tickKey(a, 'EUR/USD'))).toMatchObject({ tenant_id: a, bid: 1.1 });
    expect(await cached<CachedTick>(redis, tickKey(b, 'EUR/USD'))).toMatchObject({ tenant_id: b, bid: 1.3 });
    const [, keysOfA] = await redis.scan('0', 'MATCH', `mp:${a}:*`, 'COUNT', 10_000);
    expect(keysOfA).toEqual([tickKey(a, 'EUR/USD')]);
  });
});

describe('latest-quote cache while its server is away', () => {
  let server: PrivateRedis;
  let redis: Redis | undefined;

  beforeAll(async () => {
    server = await startPrivateRedis();
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.close();
  });

  it('takes offers without waiting, counts the failures, keeps one value per key, and catches up when the server returns', async () => {
    const tenant = 'acme';
    const { cache, registry } = newCache(server.env);
    const metric = (name: string, labels?: Record<string, string>) => metricValue(registry, name, labels);
    try {
      const t0 = Date.UTC(2026, 0, 5, 10);
      cache.offerTicks(ticksOf(tenant, 'EUR/USD', 10, t0));
      await cache.settled();
      expect(await metric('market_pipeline_bridge_cache_up')).toBe(1);

      await server.stop();
      // 20,000 values for 2 keys: offers return at once (nothing to await), failures are counted.
      for (let i = 0; i < 100; i++) {
        const result: unknown = cache.offerTicks([
          ...ticksOf(tenant, 'EUR/USD', 100, t0 + 1000 + i * 100),
          ...ticksOf(tenant, 'GBP/USD', 100, t0 + 1000 + i * 100),
        ]);
        expect(result).toBeUndefined();
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(
        'failed cache writes',
        () => metric('market_pipeline_bridge_cache_failures_total'),
        (n) => n > 0,
      );
      expect(await metric('market_pipeline_bridge_cache_up')).toBe(0);
      // Coalesced to the newest value per key: memory does not grow with the outage.
      expect(cache.pendingKeys).toBe(2);
      expect(await metric('market_pipeline_bridge_cache_coalesced_total')).toBeGreaterThan(19_000);

      // Back, empty (no persistence): the newest values held arrive without any new offer.
      await server.start();
      redis = await cacheClient(server.env);
      const newest = t0 + 1000 + 99 * 100 + 99;
      await waitFor(
        'the cache to catch up',
        async () => [
          (await cached<CachedTick>(redis!, tickKey(tenant, 'EUR/USD')))?.timestamp_ms,
          (await cached<CachedTick>(redis!, tickKey(tenant, 'GBP/USD')))?.timestamp_ms,
        ],
        (v) => v[0] === newest && v[1] === newest,
        20_000,
      );
      expect(await metric('market_pipeline_bridge_cache_up')).toBe(1);
    } finally {
      await cache.close();
    }
  });
});
