// Reading the latest-quote cache (what a consumer of "the latest EUR/USD quote" does; the
// dashboard uses it when the cache is configured). Keys and values: cache/keys.ts.
import type { Redis } from 'ioredis';
import { KEY_PREFIX, type CachedBar, type CachedTick } from './keys.js';

/** Every key of a tenant matching `kind` (SCAN, not KEYS: it never blocks the server). */
async function keysOf(redis: Redis, tenantId: string, kind: 'tick' | 'bar'): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      `${KEY_PREFIX}:${tenantId}:${kind}:*`,
      'COUNT',
      1000,
    );
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

async function values<T>(redis: Redis, keys: string[]): Promise<T[]> {
  if (keys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const k of keys) pipeline.hget(k, 'v');
  const replies = (await pipeline.exec()) ?? [];
  return replies.flatMap(([error, v]) => (error || typeof v !== 'string' ? [] : [JSON.parse(v) as T]));
}

/** The latest tick of every symbol of the tenant, by symbol. */
export async function cachedTicks(redis: Redis, tenantId: string): Promise<CachedTick[]> {
  return values<CachedTick>(redis, await keysOf(redis, tenantId, 'tick'));
}

/** The latest bar of every symbol and of the given timeframes, by symbol and timeframe. */
export async function cachedBars(
  redis: Redis,
  tenantId: string,
  timeframes: readonly string[],
): Promise<CachedBar[]> {
  const keys = (await keysOf(redis, tenantId, 'bar')).filter((k) =>
    timeframes.includes(k.slice(k.lastIndexOf(':') + 1)),
  );
  return values<CachedBar>(redis, keys);
}
