import { describe, expect, it } from '@jest/globals';
import { barVersion } from '../contracts/messages.js';
import { historicalBar, type HistoricalBarContext } from './historical-bar.js';

const context: HistoricalBarContext = {
  tenantId: 'system',
  symbol: 'USD/JPY',
  timeframe: '1h',
  pipSizes: {},
  downloadedAt: new Date('2024-02-01T00:00:00Z'),
  feedGapRepair: false,
};
const agg = {
  t: Date.parse('2024-01-24T10:00:00Z'),
  o: 150.1,
  h: 150.35,
  l: 150.02,
  c: 150.3,
  v: 1234,
  vw: 150.2,
};

describe('historical bar', () => {
  it('maps a Polygon aggregate to a polygon_historical bar with pips of the symbol', () => {
    expect(historicalBar(agg, context)).toEqual({
      tenant_id: 'system',
      symbol: 'USD/JPY',
      timeframe: '1h',
      timestamp_ms: agg.t,
      open: 150.1,
      high: 150.35,
      low: 150.02,
      close: 150.3,
      volume: 1234,
      vwap: 150.2,
      range_pips: 33,
      body_pips: 20,
      start_time: '2024-01-24T10:00:00.000Z',
      end_time: '2024-01-24T11:00:00.000Z',
      source: 'polygon_historical',
      event_type: 'ohlcv',
      ingested_at: '2024-02-01T00:00:00.000Z',
    });
  });

  it('falls back to the mean of open, high, low and close without vw, and honours PIP_SIZES', () => {
    const bar = historicalBar({ ...agg, vw: undefined }, { ...context, pipSizes: { 'USD/JPY': 0.1 } });
    expect(bar.vwap).toBeCloseTo((150.1 + 150.35 + 150.02 + 150.3) / 4, 10);
    expect(bar.range_pips).toBe(3.3);
  });

  it('marks a feed-gap repair, which outranks live bars', () => {
    const repair = historicalBar(agg, { ...context, feedGapRepair: true });
    expect(repair.feed_gap_repair).toBe(true);
    expect(barVersion(repair) / 10n ** 15n).toBe(3n);
  });

  it('refuses an aggregate that breaks the bar contract', () => {
    expect(() => historicalBar({ ...agg, h: 150.0 }, context)).toThrow(/OHLC/);
  });
});
