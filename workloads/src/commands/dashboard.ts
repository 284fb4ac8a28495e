// `market-pipeline dashboard`: a live view of what the pipeline stored — ticks per symbol
// in PostgreSQL and the latest bars in ClickHouse — refreshed every few seconds.
import { z } from 'zod';
import { clickhouseEnv, tenantEnv, timescaleEnv } from '../contracts/env.js';
import { TIMEFRAMES } from '../contracts/timeframes.js';
import { createClickHouse } from '../db/clickhouse.js';
import { createPgPool } from '../db/postgres.js';
import { env, loadConfig } from '../runtime/config.js';
import { latestBars, tickStats, type LatestBar, type TickStats } from '../dashboard/queries.js';
import { renderDashboard } from '../dashboard/render.js';

const dashboardEnv = timescaleEnv
  .extend(clickhouseEnv.shape)
  .extend(tenantEnv.shape)
  .extend({
    DASHBOARD_REFRESH_SECONDS: env.secondsAsMs().default(2000),
    DASHBOARD_TIMEFRAMES: env.list(z.enum(TIMEFRAMES)).default(['5m']),
  });

export async function run(args: string[]): Promise<number> {
  const once = args.includes('--once');
  const cfg = loadConfig(dashboardEnv);
  const pool = createPgPool(cfg, 'market-pipeline-dashboard');
  const ch = createClickHouse(cfg, 'market-pipeline-dashboard');
  const interactive = process.stdout.isTTY && !once;
  let stopped = false;
  process.once('SIGINT', () => (stopped = true));
  process.once('SIGTERM', () => (stopped = true));
  try {
    do {
      const errors: string[] = [];
      const [ticks, bars] = await Promise.all([
        tickStats(pool, cfg.TENANT_ID).catch(
          (e: Error): TickStats[] => (errors.push(`PostgreSQL: ${e.message}`), []),
        ),
        latestBars(ch, cfg.TENANT_ID, cfg.DASHBOARD_TIMEFRAMES).catch(
          (e: Error): LatestBar[] => (errors.push(`ClickHouse: ${e.message}`), []),
        ),
      ]);
      const screen = renderDashboard(new Date(), ticks, bars, errors);
      process.stdout.write(interactive ? `\x1b[2J\x1b[H${screen}\n` : `${screen}\n\n`);
      if (once) return errors.length ? 1 : 0;
      await new Promise((r) => setTimeout(r, cfg.DASHBOARD_REFRESH_SECONDS));
    } while (!stopped);
    return 0;
  } finally {
    await Promise.allSettled([pool.end(), ch.close()]);
  }
}
