import { describe, expect, it } from '@jest/globals';
import { feedGapMessageId, feedGapSchema } from '../contracts/messages.js';
import { DisconnectGaps, OverflowGaps } from './feed-gaps.js';

const SYMBOLS = ['EUR/USD', 'USD/JPY'];

describe('disconnect gaps', () => {
  it('spans from the last quote before the drop to the first quote after it', () => {
    const gaps = new DisconnectGaps(SYMBOLS);
    expect(gaps.quote(1000)).toBeUndefined();
    expect(gaps.quote(1500)).toBeUndefined();
    gaps.connectionLost(9_999_999);
    expect(gaps.open).toBe(true);
    expect(gaps.quote(4000)).toEqual({ kind: 'disconnect', symbols: SYMBOLS, start_ms: 1500, end_ms: 4000 });
    expect(gaps.open).toBe(false);
    expect(gaps.quote(4001)).toBeUndefined();
  });

  it('uses the wall-clock drop time when no quote came before, and merges repeated drops', () => {
    const gaps = new DisconnectGaps(SYMBOLS);
    gaps.connectionLost(2000);
    gaps.connectionLost(3000);
    expect(gaps.quote(5000)).toMatchObject({ start_ms: 2000, end_ms: 5000 });
  });

  it('orders the ends when the first quote after is older (a replay)', () => {
    const gaps = new DisconnectGaps(SYMBOLS);
    gaps.quote(5000);
    gaps.connectionLost(6000);
    expect(gaps.quote(4000)).toMatchObject({ start_ms: 4000, end_ms: 5000 });
  });

  it('closes an open span at shutdown, and nothing when none is open', () => {
    const gaps = new DisconnectGaps(SYMBOLS);
    expect(gaps.closeAt(1)).toBeUndefined();
    gaps.quote(100);
    gaps.connectionLost(200);
    expect(gaps.closeAt(300)).toMatchObject({ start_ms: 100, end_ms: 300 });
    expect(gaps.open).toBe(false);
  });
});

describe('buffer overflow gaps', () => {
  it('records the dropped quote-time span per symbol, closed by its next accepted tick', () => {
    const gaps = new OverflowGaps();
    gaps.dropped('EUR/USD', 200);
    gaps.dropped('EUR/USD', 100);
    gaps.dropped('EUR/USD', 300);
    gaps.dropped('USD/JPY', 250);
    expect(gaps.openCount).toBe(2);
    expect(gaps.accepted('EUR/USD')).toEqual({
      kind: 'buffer_overflow',
      symbols: ['EUR/USD'],
      start_ms: 100,
      end_ms: 300,
    });
    expect(gaps.accepted('EUR/USD')).toBeUndefined();
    expect(gaps.closeAll()).toEqual([
      { kind: 'buffer_overflow', symbols: ['USD/JPY'], start_ms: 250, end_ms: 250 },
    ]);
    expect(gaps.openCount).toBe(0);
  });
});

describe('feed_gap message', () => {
  const gap = {
    kind: 'disconnect' as const,
    symbols: ['USD/JPY', 'EUR/USD'],
    start_ms: 1000,
    end_ms: 2000,
    detected_at: '2024-01-25T16:00:00.000Z',
  };

  it('validates kind, symbols and the order of the ends', () => {
    expect(feedGapSchema.parse(gap)).toEqual(gap);
    expect(feedGapSchema.safeParse({ ...gap, end_ms: 999 }).success).toBe(false);
    expect(feedGapSchema.safeParse({ ...gap, symbols: [] }).success).toBe(false);
    expect(feedGapSchema.safeParse({ ...gap, kind: 'outage' }).success).toBe(false);
  });

  it('has an id that ignores the detection time and symbol order but not the span', () => {
    const id = feedGapMessageId(gap, 'system');
    expect(feedGapMessageId({ ...gap, symbols: ['EUR/USD', 'USD/JPY'] }, 'system')).toBe(id);
    expect(feedGapMessageId({ ...gap, end_ms: 2001 }, 'system')).not.toBe(id);
    expect(feedGapMessageId({ ...gap, kind: 'buffer_overflow' }, 'system')).not.toBe(id);
  });
});
