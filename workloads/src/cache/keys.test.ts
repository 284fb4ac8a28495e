import { describe, expect, it } from '@jest/globals';
import { barRow } from '../bridge/rows.js';
import { makeBar } from '../../../test/support/market-messages.js';
import { barKey, barRank, cachedBar, tickKey, tickRank } from './keys.js';

describe('cache keys and ranks', () => {
  it('name the tenant in every key', () => {
    expect(tickKey('acme', 'EUR/USD')).toBe('mp:acme:tick:EUR/USD');
    expect(barKey('acme', 'XAU/USD', '1h')).toBe('mp:acme:bar:XAU/USD:1h');
  });

  it('order ticks by time, as strings (what the server compares)', () => {
    expect(tickRank({ timestamp_ms: 999 }) < tickRank({ timestamp_ms: 1000 })).toBe(true);
    expect(
      tickRank({ timestamp_ms: Date.UTC(2026, 0, 1) }) < tickRank({ timestamp_ms: Date.UTC(2100, 0, 1) }),
    ).toBe(true);
  });

  it('order bars by start, then by the version ClickHouse keeps (rank, then build time)', () => {
    const start = Date.UTC(2026, 0, 5, 10);
    const rank = (o: Parameters<typeof makeBar>[0]) => barRank(barRow(makeBar(o), 'system'));
    const historical = rank({ timestamp_ms: start, source: 'polygon_historical' });
    const live = rank({ timestamp_ms: start });
    const repair = rank({ timestamp_ms: start, source: 'polygon_historical', feed_gap_repair: true });
    const rebuilt = rank({ timestamp_ms: start, ingested_at: new Date(start + 86_400_000).toISOString() });
    const next = rank({ timestamp_ms: start + 300_000, source: 'polygon_historical' });
    const partial = rank({
      timestamp_ms: start,
      partial: true,
      ingested_at: new Date(start + 2 * 86_400_000).toISOString(),
    });
    expect([repair, next, live, partial, rebuilt, historical].sort()).toEqual([
      partial,
      historical,
      live,
      rebuilt,
      repair,
      next,
    ]);
  });

  it('marks a partial bar as such in the cached value', () => {
    const start = Date.UTC(2026, 0, 5, 10);
    expect(cachedBar(barRow(makeBar({ timestamp_ms: start, partial: true }), 'system')).partial).toBe(true);
    expect(cachedBar(barRow(makeBar({ timestamp_ms: start }), 'system')).partial).toBe(false);
  });
});
