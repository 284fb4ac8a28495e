import { describe, expect, it } from '@jest/globals';
import { UsageError, parseAggregateArgs } from './args.js';

function usageError(args: string[]): string {
  try {
    parseAggregateArgs(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${args.join(' ')}`);
}

describe('aggregate arguments', () => {
  it('reads the timeframe in both spellings', () => {
    expect(parseAggregateArgs(['--timeframe', '5m'])).toEqual({
      timeframes: ['5m'],
      fromMs: undefined,
      toMs: undefined,
      nowMs: undefined,
      help: false,
    });
    expect(parseAggregateArgs(['--timeframe=1w']).timeframes).toEqual(['1w']);
  });

  it('accepts a list or all, in canonical order without repeats', () => {
    expect(parseAggregateArgs(['--timeframe', '1d,5m,1d']).timeframes).toEqual(['5m', '1d']);
    expect(parseAggregateArgs(['--timeframe', 'all']).timeframes).toEqual([
      '5m',
      '15m',
      '30m',
      '1h',
      '4h',
      '1d',
      '1w',
    ]);
  });

  it('names the seven timeframes when one is unknown or missing', () => {
    const seven = 'expected one of 5m, 15m, 30m, 1h, 4h, 1d, 1w';
    expect(usageError(['--timeframe', '1m'])).toBe(`unknown timeframe '1m': ${seven}`);
    expect(usageError(['--timeframe', '5m,M15'])).toBe(`unknown timeframe 'M15': ${seven}`);
    expect(usageError([])).toBe('--timeframe is required (one of 5m, 15m, 30m, 1h, 4h, 1d, 1w)');
    expect(usageError(['--timeframe'])).toBe('--timeframe needs a value');
  });

  it('reads --from, --to and --now as ISO-8601 instants', () => {
    const a = parseAggregateArgs([
      '--timeframe=1h',
      '--from',
      '2024-01-25',
      '--to=2024-01-26T12:30:00+02:00',
      '--now',
      '2024-02-01T00:00:00.250Z',
    ]);
    expect(a.fromMs).toBe(Date.parse('2024-01-25T00:00:00Z'));
    expect(a.toMs).toBe(Date.parse('2024-01-26T10:30:00Z'));
    expect(a.nowMs).toBe(Date.parse('2024-02-01T00:00:00.250Z'));
  });

  it('refuses instants without a zone, malformed ones and inverted ranges', () => {
    expect(usageError(['--timeframe', '5m', '--from', '2024-01-25T10:00:00'])).toContain(
      "--from '2024-01-25T10:00:00' is not an ISO-8601 date or date-time with a zone",
    );
    expect(usageError(['--timeframe', '5m', '--now', 'yesterday'])).toContain("--now 'yesterday'");
    expect(usageError(['--timeframe', '5m', '--from', '2024-02-30T00:00:00Z'])).toContain('--from');
    expect(usageError(['--timeframe', '5m', '--from', '2024-01-26', '--to', '2024-01-25'])).toBe(
      '--to (2024-01-25) must be after --from (2024-01-26)',
    );
    expect(usageError(['--timeframe', '5m', '--to', '2024-01-25'])).toBe('--to needs --from');
  });

  it('refuses unknown and repeated arguments, and answers --help', () => {
    expect(usageError(['--timeframe', '5m', '--symbol', 'EUR/USD'])).toBe("unknown argument '--symbol'");
    expect(usageError(['5m'])).toBe("unknown argument '5m'");
    expect(usageError(['--timeframe', '5m', '--timeframe', '1h'])).toBe('--timeframe given twice');
    expect(parseAggregateArgs(['--help']).help).toBe(true);
  });
});
