import { describe, expect, it } from '@jest/globals';
import { makeBar, makeTick } from '../../../test/support/market-messages.js';
import { barRow, tickRow, tickTime } from './rows.js';

describe('message → row mapping', () => {
  it('maps a tick to a market_ticks row with its time from timestamp_ms and the tenant', () => {
    const row = tickRow(makeTick({ timestamp_ms: 1767607200123 }), 'acme');
    expect(tickTime(row)).toBe('2026-01-05T10:00:00.123Z');
    expect(row).toEqual({
      tenant_id: 'acme',
      symbol: 'EUR/USD',
      bid: 1.0848,
      ask: 1.085,
      mid: 1.0849,
      spread: 2,
      timestamp_ms: 1767607200123,
      exchange: 48,
      source: 'polygon_websocket',
      ingested_at: '2026-01-05T10:00:00.200Z',
    });
  });

  it('maps a bar to an aggregates row with DateTime64(3) UTC times and its version', () => {
    const bar = makeBar({
      timestamp_ms: Date.UTC(2026, 0, 5, 10, 0),
      start_time: '2026-01-05T10:00:00+00:00',
      ingested_at: '2026-01-05T10:05:01.250Z',
    });
    expect(barRow(bar, 'system')).toEqual({
      tenant_id: 'system',
      symbol: 'EUR/USD',
      timeframe: '5m',
      timestamp: '2026-01-05 10:00:00.000',
      timestamp_ms: Date.UTC(2026, 0, 5, 10, 0),
      open: 1.085,
      high: 1.0855,
      low: 1.0848,
      close: 1.0852,
      volume: 120,
      vwap: 1.0851,
      range_pips: 7,
      body_pips: 2,
      start_time: '2026-01-05 10:00:00.000',
      end_time: '2026-01-05 10:05:00.000',
      source: 'live_aggregated',
      ingested_at: '2026-01-05 10:05:01.250',
      version: (2n * 10n ** 15n + BigInt(Date.UTC(2026, 0, 5, 10, 5, 1, 250))).toString(),
    });
  });

  it('gives a live bar a higher version than any historical one, and a newer build a higher one', () => {
    const version = (source: 'live_aggregated' | 'polygon_historical', ingested: string) =>
      BigInt(barRow(makeBar({ source, ingested_at: ingested }), 'system').version);
    expect(version('live_aggregated', '2026-01-05T10:05:01Z')).toBeGreaterThan(
      version('polygon_historical', '2030-01-01T00:00:00Z'),
    );
    expect(version('live_aggregated', '2026-01-05T10:06:00Z')).toBeGreaterThan(
      version('live_aggregated', '2026-01-05T10:05:01Z'),
    );
  });
});
