import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { parseAggregateArgs } from '../aggregator/args.js';
import type { AggregationSummary } from '../aggregator/aggregation.js';
import { planWindows, run, summaryLine } from './aggregate.js';

const goodEnv = {
  NATS_URL: 'nats://127.0.0.1:1',
  TIMESCALEDB_HOST: '127.0.0.1',
  TIMESCALEDB_USER: 'u',
  TIMESCALEDB_PASSWORD: 'p',
  SYMBOLS: 'EUR/USD',
};

describe('aggregate command', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  function captureErrors(): string[] {
    const lines: string[] = [];
    jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    return lines;
  }

  it('exits 2 naming the seven timeframes for an unknown one, before touching any server', async () => {
    const errors = captureErrors();
    expect(await run(['--timeframe', '2h'], goodEnv)).toBe(2);
    expect(errors.join('\n')).toContain(
      "unknown timeframe '2h': expected one of 5m, 15m, 30m, 1h, 4h, 1d, 1w",
    );
    expect(errors.join('\n')).toContain('Usage: market-pipeline aggregate');
  });

  it('exits 2 naming a bad variable', async () => {
    const errors = captureErrors();
    expect(await run(['--timeframe', '5m'], { ...goodEnv, AGGREGATE_LOOKBACK_BARS: '-1' })).toBe(2);
    expect(await run(['--timeframe', '5m'], { ...goodEnv, SYMBOLS: '' })).toBe(2);
    expect(errors[0]).toContain("AGGREGATE_LOOKBACK_BARS ('-1')");
    expect(errors[1]).toContain('SYMBOLS (unset): required');
  });

  it('prints the usage for --help and exits 0', async () => {
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    expect(await run(['--help'], {})).toBe(0);
    expect(lines[0]).toContain('--timeframe');
  });

  it('plans the scheduled window, or the explicit range up to now when --to is absent', () => {
    const now = Date.parse('2024-01-25T10:07:00Z');
    const scheduled = planWindows(parseAggregateArgs(['--timeframe', '5m,1h']), 2, now);
    expect(
      scheduled.map((w) => [w.timeframe, new Date(w.start).toISOString(), new Date(w.end).toISOString()]),
    ).toEqual([
      ['5m', '2024-01-25T09:50:00.000Z', '2024-01-25T10:05:00.000Z'],
      ['1h', '2024-01-25T07:00:00.000Z', '2024-01-25T10:00:00.000Z'],
    ]);
    const explicit = planWindows(
      parseAggregateArgs(['--timeframe', '1h', '--from', '2024-01-25T08:30:00Z']),
      2,
      now,
    );
    expect(explicit.map((w) => [new Date(w.start).toISOString(), new Date(w.end).toISOString()])).toEqual([
      ['2024-01-25T08:00:00.000Z', '2024-01-25T10:00:00.000Z'],
    ]);
  });

  it('summarises a run in one line with bars per symbol, zeros included', () => {
    const summary: AggregationSummary = {
      bars: 5,
      barsBySymbol: { 'EUR/USD': 3, 'XAU/USD': 2 },
      published: 5,
      duplicates: 2,
      partial: 1,
      archived: 3,
      alreadyArchived: 2,
      chunks: 1,
      queryMs: 12,
    };
    const args = parseAggregateArgs(['--timeframe', '15m']);
    expect(summaryLine(args, { ...summary, lateBars: 4 }, ['EUR/USD', 'GBP/USD', 'XAU/USD'])).toBe(
      'aggregated 15m: 5 bars (EUR/USD 3, GBP/USD 0, XAU/USD 2); published 5 (2 duplicates); 1 partial; ' +
        '4 rebuilt for late ticks; archived 3 (2 already archived)',
    );
    expect(summaryLine(args, { ...summary, archived: undefined }, ['EUR/USD'])).toContain(
      'Kafka archive off',
    );
  });
});
