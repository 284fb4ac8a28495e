// The Redis-protocol client of the latest-quote cache (ioredis; DragonflyDB in production,
// redis-server in the tests) and the server-side compare-and-set that keeps a cached value
// from going backwards.
import { Redis, type Result } from 'ioredis';

/**
 * KEYS[1] the key; ARGV[1] the new value's rank (fixed-width string, cache/keys.ts),
 * ARGV[2] the value, ARGV[3] the TTL in ms. Stores only when the key is absent or its rank
 * is lower: a compare on the server, atomic with the write, so two bridge replicas, a
 * redelivery, or a retry that arrives after a newer value can never overwrite it (a read
 * then a write could). Returns 1 when stored, 0 when the cached value is as new or newer.
 * Touches only its declared key, as DragonflyDB requires of scripts.
 */
export const STORE_IF_NEWER_LUA = `
local current = redis.call('HGET', KEYS[1], 'r')
if current and current >= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[1], 'v', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** STORE_IF_NEWER_LUA, sent as EVALSHA (ioredis loads the script when the server lacks it). */
    storeIfNewer(key: string, rank: string, value: string, ttlMs: number): Result<number, Context>;
  }
}

export interface CacheConnection {
  DRAGONFLYDB_HOST: string;
  DRAGONFLYDB_PORT: number;
  DRAGONFLYDB_PASSWORD?: string | undefined;
}

/**
 * The bridge's client (`writer`) fails fast instead of waiting: no offline queue (a command
 * while the server is away fails at once instead of piling up). A reader (the dashboard)
 * waits for the connection instead. Both have a command timeout and reconnect forever in the
 * background with a capped delay. The caller must handle the 'error' events.
 */
export function createCacheClient(
  c: CacheConnection,
  name: string,
  role: 'writer' | 'reader' = 'writer',
  commandTimeoutMs = 2_000,
): Redis {
  const redis = new Redis({
    host: c.DRAGONFLYDB_HOST,
    port: c.DRAGONFLYDB_PORT,
    password: c.DRAGONFLYDB_PASSWORD || undefined,
    connectionName: name,
    enableOfflineQueue: role === 'reader',
    maxRetriesPerRequest: role === 'reader' ? 1 : 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5_000),
  });
  redis.defineCommand('storeIfNewer', { numberOfKeys: 1, lua: STORE_IF_NEWER_LUA });
  return redis;
}
