import { describe, expect, it } from '@jest/globals';
import {
  barMessageId,
  barSchema,
  barVersion,
  isPlainTick,
  tickMessageId,
  tickSchema,
  type Bar,
  type Tick,
} from './messages.js';

const tick: Tick = {
  symbol: 'EUR/USD',
  bid: 1.0848,
  ask: 1.085,
  mid: 1.0849,
  spread: 2,
  timestamp_ms: 1706198400123,
  exchange: 48,
  source: 'polygon_websocket',
  event_type: 'quote',
  ingested_at: '2024-01-25T16:00:00.200Z',
};

const bar: Bar = {
  symbol: 'EUR/USD',
  timeframe: '5m',
  timestamp_ms: 1706176800000,
  open: 1.085,
  high: 1.0855,
  low: 1.0848,
  close: 1.0852,
  volume: 1234,
  vwap: 1.0851,
  range_pips: 7,
  body_pips: 2,
  start_time: '2024-01-25T10:00:00.000Z',
  end_time: '2024-01-25T10:05:00.000Z',
  source: 'live_aggregated',
  event_type: 'ohlcv',
  ingested_at: '2024-01-25T10:05:01.000Z',
};

describe('message schemas', () => {
  it('accepts a well-formed tick and bar', () => {
    expect(tickSchema.parse(tick)).toEqual(tick);
    expect(barSchema.parse(bar)).toEqual(bar);
    expect(barSchema.parse({ ...bar, start_time: '2024-01-25T10:00:00+00:00' }).timestamp_ms).toBe(
      bar.timestamp_ms,
    );
  });

  it('refuses malformed ticks with the field named', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...tick, symbol: 'EURUSD' }, 'symbol'],
      [{ ...tick, bid: 'x' }, 'bid'],
      [{ ...tick, ask: -1 }, 'ask'],
      [{ ...tick, source: 'live_aggregated' }, 'source'],
      [{ ...tick, timestamp_ms: 1.5 }, 'timestamp_ms'],
      [{ ...tick, extra: 1 }, ''],
    ];
    for (const [candidate, field] of cases) {
      const result = tickSchema.safeParse(candidate);
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]!.path.join('.')).toBe(field);
    }
  });

  it('recognises plain ticks without zod only where the schema accepts them', () => {
    const variants: unknown[] = [
      tick,
      { ...tick, symbol: 'EURUSD' },
      { ...tick, symbol: 'eur/usd' },
      { ...tick, bid: 0 },
      { ...tick, ask: -1 },
      { ...tick, mid: Number.POSITIVE_INFINITY },
      { ...tick, spread: -0.5 },
      { ...tick, spread: Number.NaN },
      { ...tick, bid: '1.0848' },
      { ...tick, timestamp_ms: -1 },
      { ...tick, timestamp_ms: 1.5 },
      { ...tick, timestamp_ms: 2 ** 53 },
      { ...tick, exchange: 4.8 },
      { ...tick, exchange: -3 },
      { ...tick, source: 'live_aggregated' },
      { ...tick, event_type: 'trade' },
      { ...tick, extra: 1 },
      { ...tick, ingested_at: '2024-02-29T00:00:00.000Z' },
      { ...tick, ingested_at: '2023-02-29T00:00:00.000Z' },
      { ...tick, ingested_at: '2024-01-31T23:59:59.999Z' },
      { ...tick, ingested_at: '2024-13-01T00:00:00.000Z' },
      { ...tick, ingested_at: '2024-01-25T24:00:00.000Z' },
      { ...tick, ingested_at: '2024-01-25T16:00:00Z' },
      { ...tick, ingested_at: '2024-01-25T16:00:00.200+01:00' },
      { ...tick, ingested_at: '2024-01-25 16:00:00.200Z' },
      { ...tick, ingested_at: '0000-01-01T00:00:00.000Z' },
      (({ exchange: _, ...rest }) => rest)(tick),
      [tick],
      null,
      'tick',
    ];
    let plain = 0;
    for (const candidate of variants) {
      const schema = tickSchema.safeParse(candidate);
      if (isPlainTick(candidate)) {
        plain++;
        expect(schema.success).toBe(true);
        expect(schema.data).toEqual(candidate);
      }
    }
    expect(plain).toBeGreaterThanOrEqual(4); // the common spellings do take the quick path
  });

  it('refuses bars with an unknown timeframe, inconsistent prices or start', () => {
    expect(barSchema.safeParse({ ...bar, timeframe: '1m' }).success).toBe(false);
    expect(barSchema.safeParse({ ...bar, high: 1.08 }).success).toBe(false);
    expect(barSchema.safeParse({ ...bar, start_time: '2024-01-25T10:05:00Z' }).success).toBe(false);
    expect(barSchema.safeParse({ ...bar, source: 'polygon_websocket' }).success).toBe(false);
  });

  it('gives the same quote the same id and different quotes different ids', () => {
    expect(tickMessageId(tick, 'system')).toBe(
      tickMessageId({ ...tick, ingested_at: 'later' } as Tick, 'system'),
    );
    expect(tickMessageId(tick, 'system')).not.toBe(tickMessageId({ ...tick, bid: 1.0847 }, 'system'));
    expect(tickMessageId(tick, 'system')).not.toBe(
      tickMessageId({ ...tick, timestamp_ms: tick.timestamp_ms + 1 }, 'system'),
    );
  });

  it('gives a corrected bar a new id but a re-published one the same', () => {
    expect(barMessageId(bar, 'system')).toBe(
      barMessageId({ ...bar, ingested_at: '2024-01-25T10:10:00.000Z' } as Bar, 'system'),
    );
    expect(barMessageId(bar, 'system')).not.toBe(
      barMessageId({ ...bar, volume: 1235, close: 1.0853 }, 'system'),
    );
    expect(barMessageId(bar, 'system')).not.toBe(
      barMessageId({ ...bar, source: 'polygon_historical' }, 'system'),
    );
  });

  it('marks partial bars only on live bars, with an id of their own', () => {
    expect(barSchema.parse({ ...bar, partial: true }).partial).toBe(true);
    expect(barSchema.safeParse({ ...bar, source: 'polygon_historical', partial: true }).success).toBe(false);
    expect(barSchema.safeParse({ ...bar, partial: false }).success).toBe(false);
    expect(barMessageId({ ...bar, partial: true }, 'system')).not.toBe(barMessageId(bar, 'system'));
  });

  it('marks feed-gap repairs only on historical bars, with an id of their own', () => {
    const historical: Bar = { ...bar, source: 'polygon_historical' };
    expect(barSchema.parse({ ...historical, feed_gap_repair: true }).feed_gap_repair).toBe(true);
    expect(barSchema.safeParse({ ...bar, feed_gap_repair: true }).success).toBe(false);
    expect(barSchema.safeParse({ ...historical, feed_gap_repair: false }).success).toBe(false);
    expect(barMessageId({ ...historical, feed_gap_repair: true }, 'system')).not.toBe(
      barMessageId(historical, 'system'),
    );
  });
});

describe('bar precedence (barVersion)', () => {
  const at = (iso: string) => ({ ingested_at: iso });
  const live = (iso: string) => barVersion({ source: 'live_aggregated', ...at(iso) });
  const historical = (iso: string) => barVersion({ source: 'polygon_historical', ...at(iso) });
  const repair = (iso: string) =>
    barVersion({ source: 'polygon_historical', feed_gap_repair: true, ...at(iso) });

  it('lets a live bar beat a historical one, whichever was built later', () => {
    expect(live('2024-01-25T10:05:01Z')).toBeGreaterThan(historical('2030-01-01T00:00:00Z'));
    expect(live('2024-01-25T10:05:01Z')).toBeGreaterThan(historical('2020-01-01T00:00:00Z'));
  });

  it('lets the newest version win within one source', () => {
    expect(live('2024-01-25T10:10:00Z')).toBeGreaterThan(live('2024-01-25T10:05:01Z'));
    expect(historical('2024-02-01T00:00:00Z')).toBeGreaterThan(historical('2024-01-30T00:00:00Z'));
    expect(repair('2024-02-01T00:00:00Z')).toBeGreaterThan(repair('2024-01-30T00:00:00Z'));
  });

  it('lets a feed-gap repair beat every live bar, also one rebuilt after it', () => {
    expect(repair('2024-01-25T11:00:00Z')).toBeGreaterThan(live('2024-01-25T10:05:01Z'));
    expect(repair('2024-01-25T11:00:00Z')).toBeGreaterThan(live('2030-01-01T00:00:00Z'));
    expect(repair('2024-01-25T11:00:00Z') / 10n ** 15n).toBe(3n);
  });

  it('ranks a partial live bar below everything, even one built later', () => {
    const partial = (iso: string) => barVersion({ source: 'live_aggregated', partial: true, ...at(iso) });
    expect(partial('2030-01-01T00:00:00Z')).toBeLessThan(historical('2024-01-25T10:05:01Z'));
    expect(partial('2030-01-01T00:00:00Z')).toBeLessThan(live('2024-01-25T10:05:01Z'));
    expect(partial('2024-01-25T10:10:00Z')).toBeGreaterThan(partial('2024-01-25T10:05:01Z'));
    expect(partial('2024-01-25T11:00:00Z') / 10n ** 15n).toBe(0n);
  });
});
