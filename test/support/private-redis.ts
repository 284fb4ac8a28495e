// Redis-protocol servers for the cache tests: the shared test server (scripts/test-env/redis.sh)
// and, for tests that stop and start it, a redis-server of the test's own on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-nats.js';
import { reach, requireEnv } from './servers.js';

/** The bridge's cache settings for the shared test server (REDIS_* from .test-env/env). */
export function sharedCacheEnv(): Record<string, string> {
  return {
    DRAGONFLYDB_HOST: requireEnv('Redis', 'REDIS_HOST'),
    DRAGONFLYDB_PORT: requireEnv('Redis', 'REDIS_PORT'),
    DRAGONFLYDB_PASSWORD: requireEnv('Redis', 'REDIS_PASSWORD'),
  };
}

/** A plain client on the cache of `env` (DRAGONFLYDB_*), for reading what the bridge wrote. */
export async function cacheClient(env: Record<string, string>): Promise<Redis> {
  const redis = new Redis({
    host: env.DRAGONFLYDB_HOST,
    port: Number(env.DRAGONFLYDB_PORT),
    password: env.DRAGONFLYDB_PASSWORD || undefined,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  await reach('Redis', `${env.DRAGONFLYDB_HOST}:${env.DRAGONFLYDB_PORT}`, () => redis.connect());
  return redis;
}

export interface PrivateRedis {
  env: Record<string, string>;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** A redis-server of this test's own (no persistence: a restart comes back empty, as the cache may). */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-redis-'));
  const port = await freePort();
  const password = 'private_cache';
  let child: ChildProcess | undefined;
  const env = {
    DRAGONFLYDB_HOST: '127.0.0.1',
    DRAGONFLYDB_PORT: String(port),
    DRAGONFLYDB_PASSWORD: password,
  };
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--requirepass', password, '--save', '', '--dir', dir],
      { stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    const probe = new Redis({ port, password, lazyConnect: true, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    const until = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (error) {
        probe.disconnect();
        if (Date.now() > until)
          throw new Error(`redis-server on ${port} did not start (is it installed? make test-env)`, {
            cause: error,
          });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    probe.disconnect();
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await start();
  return {
    env,
    port,
    start,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
