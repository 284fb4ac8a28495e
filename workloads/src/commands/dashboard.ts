// `market-pipeline dashboard`: a live view of what the pipeline stored — ticks per symbol
// in PostgreSQL and the latest bars in ClickHouse — refreshed every few seconds.
import { z } from 'zod';
import type { Redis } from 'ioredis';
import { cacheEnv, clickhouseEnv, tenantEnv, timescaleEnv } from '../contracts/env.js';
import { createCacheClient } from '../cache/client.js';
import { cachedBars, cachedTicks } from '../cache/reader.js';
import { TIMEFRAMES } from '../contracts/timeframes.js';
import { createClickHouse } from '../db/clickhouse.js';
import { createPgPool } from '../db/postgres.js';
import { env, loadConfig } from '../runtime/config.js';
import {
  latestBars,
  tickStats,
  type LatestBar,
  type LatestQuote,
  type TickStats,
} from '../dashboard/queries.js';
import { renderDashboard } from '../dashboard/render.js';

const dashboardEnv = timescaleEnv
  .extend(clickhouseEnv.shape)
  .extend(tenantEnv.shape)
  .extend(cacheEnv.shape)
  .extend({
    DASHBOARD_REFRESH_SECONDS: env.secondsAsMs().default(2000),
    DASHBOARD_TIMEFRAMES: env.list(z.enum(TIMEFRAMES)).default(['5m']),
  });

export async function run(args: string[]): Promise<number> {
  const once = args.includes('--once');
  const cfg = loadConfig(dashboardEnv);
  const pool = createPgPool(cfg, 'market-pipeline-dashboard');
  const ch = createClickHouse(cfg, 'market-pipeline-dashboard');
  // With a cache: the latest quotes and bars come from it (what it is for); ticks per symbol
  // still from PostgreSQL, which alone can count them.
  const cache =
    cfg.DRAGONFLYDB_HOST === undefined
      ? undefined
      : createCacheClient(
          { ...cfg, DRAGONFLYDB_HOST: cfg.DRAGONFLYDB_HOST },
          'market-pipeline-dashboard',
          'reader',
        );
  cache?.on('error', () => undefined); // reported by the failing read instead
  const interactive = process.stdout.isTTY && !once;
  let stopped = false;
  process.once('SIGINT', () => (stopped = true));
  process.once('SIGTERM', () => (stopped = true));
  try {
    do {
      const errors: string[] = [];
      const [ticks, bars, quotes] = await Promise.all([
        tickStats(pool, cfg.TENANT_ID).catch(
          (e: Error): TickStats[] => (errors.push(`PostgreSQL: ${e.message}`), []),
        ),
        (cache
          ? barsFromCache(cache, cfg.TENANT_ID, cfg.DASHBOARD_TIMEFRAMES)
          : latestBars(ch, cfg.TENANT_ID, cfg.DASHBOARD_TIMEFRAMES)
        ).catch(
          (e: Error): LatestBar[] => (errors.push(`${cache ? 'cache' : 'ClickHouse'}: ${e.message}`), []),
        ),
        cache
          ? quotesFromCache(cache, cfg.TENANT_ID).catch(
              (e: Error): LatestQuote[] => (errors.push(`cache: ${e.message}`), []),
            )
          : undefined,
      ]);
      const screen = renderDashboard(new Date(), ticks, bars, errors, quotes);
      process.stdout.write(interactive ? `\x1b[2J\x1b[H${screen}\n` : `${screen}\n\n`);
      if (once) return errors.length ? 1 : 0;
      await new Promise((r) => setTimeout(r, cfg.DASHBOARD_REFRESH_SECONDS));
    } while (!stopped);
    return 0;
  } finally {
    cache?.disconnect();
    await Promise.allSettled([pool.end(), ch.close()]);
  }
}

async function quotesFromCache(cache: Redis, tenantId: string): Promise<LatestQuote[]> {
  return (await cachedTicks(cache, tenantId)).map((t) => ({
    symbol: t.symbol,
    bid: t.bid,
    ask: t.ask,
    spread: t.spread,
    timestampMs: t.timestamp_ms,
  }));
}

async function barsFromCache(cache: Redis, tenantId: string, timeframes: string[]): Promise<LatestBar[]> {
  return (await cachedBars(cache, tenantId, timeframes)).map((b) => ({
    symbol: b.symbol,
    timeframe: b.timeframe,
    timestampMs: b.timestamp_ms,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    source: b.source,
  }));
}
