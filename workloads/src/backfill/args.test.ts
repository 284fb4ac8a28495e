import { describe, expect, it } from '@jest/globals';
import { loadConfig, type ConfigError } from '../runtime/config.js';
import { UsageError, parseBackfillArgs } from './args.js';
import { backfillConfigSchema } from './config.js';

describe('backfill arguments', () => {
  it('takes an optional --from/--to span', () => {
    expect(parseBackfillArgs([])).toEqual({ fromMs: undefined, toMs: undefined, help: false });
    expect(parseBackfillArgs(['--from', '2024-01-22', '--to=2024-01-27T00:00:00Z'])).toEqual({
      fromMs: Date.parse('2024-01-22T00:00:00Z'),
      toMs: Date.parse('2024-01-27T00:00:00Z'),
      help: false,
    });
    expect(parseBackfillArgs(['--help']).help).toBe(true);
  });

  it('refuses unknown arguments, --to alone, a reversed span and times without a zone', () => {
    for (const args of [
      ['--timeframe', '5m'],
      ['--to', '2024-01-22'],
      ['--from', '2024-01-22', '--to', '2024-01-21'],
      ['--from', '2024-01-22T10:00:00'],
      ['--from'],
    ]) {
      expect(() => parseBackfillArgs(args)).toThrow(UsageError);
    }
  });
});

describe('backfill configuration', () => {
  const base = {
    NATS_URL: 'nats://localhost:4222',
    CLICKHOUSE_HOST: 'localhost',
    SYMBOLS: 'EUR/USD,XAU/USD',
    POLYGON_API_KEY: 'k',
  };

  it('defaults to Massive, the free plan, two years, all seven timeframes', () => {
    const config = loadConfig(backfillConfigSchema, base);
    expect(config).toMatchObject({
      POLYGON_REST_URL: 'https://api.massive.com',
      POLYGON_REST_REQUESTS_PER_MINUTE: 5,
      BACKFILL_WINDOW_DAYS: 730,
      BACKFILL_RECENT_DAYS: 3,
      BACKFILL_SETTLE_MINUTES: 60,
      BACKFILL_TIMEFRAMES: ['5m', '15m', '30m', '1h', '4h', '1d', '1w'],
    });
  });

  it('names the variable that is wrong or missing', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(backfillConfigSchema, env);
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems({ ...base, POLYGON_API_KEY: '' })).toContain('POLYGON_API_KEY (unset): required');
    expect(problems({ ...base, BACKFILL_TIMEFRAMES: '5m,1m' })).toContain('BACKFILL_TIMEFRAMES');
    expect(problems({ ...base, POLYGON_REST_URL: 'ftp://x' })).toContain('POLYGON_REST_URL');
    expect(problems({ ...base, POLYGON_REST_REQUESTS_PER_MINUTE: '0' })).toContain(
      'POLYGON_REST_REQUESTS_PER_MINUTE',
    );
  });
});
