import { describe, expect, it } from '@jest/globals';
import { TIMEFRAMES, TIMEFRAME_MS, barEnd, barStart, isBarStart, timeframeSchema } from './timeframes.js';

const utc = (iso: string) => Date.parse(iso);

describe('timeframes', () => {
  it('knows exactly the seven timeframes', () => {
    expect(TIMEFRAMES).toEqual(['5m', '15m', '30m', '1h', '4h', '1d', '1w']);
    expect(timeframeSchema.safeParse('1m').success).toBe(false);
    expect(timeframeSchema.safeParse('M5').success).toBe(false);
  });

  it('aligns intraday bars to UTC clock boundaries', () => {
    const t = utc('2024-01-25T10:07:31.123Z');
    expect(barStart('5m', t)).toBe(utc('2024-01-25T10:05:00Z'));
    expect(barStart('15m', t)).toBe(utc('2024-01-25T10:00:00Z'));
    expect(barStart('30m', t)).toBe(utc('2024-01-25T10:00:00Z'));
    expect(barStart('1h', t)).toBe(utc('2024-01-25T10:00:00Z'));
    expect(barStart('4h', t)).toBe(utc('2024-01-25T08:00:00Z'));
    expect(barStart('1d', t)).toBe(utc('2024-01-25T00:00:00Z'));
  });

  it('starts 4h bars at 00, 04, 08, 12, 16 and 20 UTC', () => {
    const starts = [0, 3, 4, 11, 12, 19, 20, 23].map((h) =>
      new Date(barStart('4h', utc(`2024-03-10T${String(h).padStart(2, '0')}:30:00Z`))).getUTCHours(),
    );
    expect(starts).toEqual([0, 0, 4, 8, 12, 16, 20, 20]);
  });

  it('starts weeks on Monday 00:00 UTC', () => {
    // 2024-01-25 is a Thursday; its week starts Monday 2024-01-22.
    expect(barStart('1w', utc('2024-01-25T10:00:00Z'))).toBe(utc('2024-01-22T00:00:00Z'));
    // Sunday evening (the forex open) still belongs to the week that began the Monday before.
    expect(barStart('1w', utc('2024-01-28T22:00:00Z'))).toBe(utc('2024-01-22T00:00:00Z'));
    expect(barStart('1w', utc('2024-01-29T00:00:00Z'))).toBe(utc('2024-01-29T00:00:00Z'));
    expect(new Date(barStart('1w', utc('1999-12-31T12:00:00Z'))).getUTCDay()).toBe(1);
  });

  it('puts a tick exactly on a boundary into the later bar', () => {
    const boundary = utc('2024-01-25T10:05:00Z');
    expect(barStart('5m', boundary)).toBe(boundary);
    expect(barStart('5m', boundary - 1)).toBe(utc('2024-01-25T10:00:00Z'));
    expect(barEnd('5m', barStart('5m', boundary - 1))).toBe(boundary);
    for (const tf of TIMEFRAMES) {
      const start = barStart(tf, utc('2024-06-05T13:47:12Z'));
      expect(isBarStart(tf, start)).toBe(true);
      expect(barEnd(tf, start) - start).toBe(TIMEFRAME_MS[tf]);
      expect(barStart(tf, barEnd(tf, start))).toBe(barEnd(tf, start));
    }
  });
});
