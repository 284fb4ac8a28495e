import { describe, expect, it } from '@jest/globals';
import { expectedBarStarts } from './expected-bars.js';

const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const starts = (tf: Parameters<typeof expectedBarStarts>[0], from: string, to: string) =>
  [...expectedBarStarts(tf, utc(from), utc(to))].map(iso);

describe('expected bars (forex hours from market-hours.ts)', () => {
  it('skips a winter weekend: Friday closes and Sunday opens at 22:00 UTC', () => {
    const bars = starts('5m', '2024-01-26T20:00:00Z', '2024-01-29T00:00:00Z');
    expect(bars).toHaveLength(24 + 24);
    expect(bars[23]).toBe('2024-01-26T21:55Z');
    expect(bars[24]).toBe('2024-01-28T22:00Z');
    expect(bars.some((b) => b.startsWith('2024-01-27'))).toBe(false);
  });

  it('follows the March change: the week before closes 22:00 UTC, the next opens 21:00 UTC', () => {
    const bars = starts('5m', '2024-03-08T21:00:00Z', '2024-03-10T22:00:00Z');
    expect(bars.filter((b) => b.startsWith('2024-03-08'))).toHaveLength(12);
    expect(bars.at(11)).toBe('2024-03-08T21:55Z');
    expect(bars.at(12)).toBe('2024-03-10T21:00Z');
    expect(bars).toHaveLength(24);
  });

  it('follows the November change: Friday closes 21:00 UTC, Sunday opens 22:00 UTC', () => {
    const bars = starts('1h', '2024-11-01T18:00:00Z', '2024-11-04T00:00:00Z');
    expect(bars).toEqual([
      '2024-11-01T18:00Z',
      '2024-11-01T19:00Z',
      '2024-11-01T20:00Z',
      '2024-11-03T22:00Z',
      '2024-11-03T23:00Z',
    ]);
  });

  it('expects bars that straddle the open or the close, also when the open lies after `to`', () => {
    expect(starts('4h', '2024-01-26T12:00:00Z', '2024-01-29T00:00:00Z')).toEqual([
      '2024-01-26T12:00Z',
      '2024-01-26T16:00Z',
      '2024-01-26T20:00Z', // open 20:00–22:00
      '2024-01-28T20:00Z', // open 22:00–24:00
    ]);
    // `to` 21:00 lies before the 22:00 open, but the 20:00 bar still overlaps it.
    expect(starts('4h', '2024-01-28T00:00:00Z', '2024-01-28T21:00:00Z')).toEqual(['2024-01-28T20:00Z']);
  });

  it('expects the Sunday and Friday day bars but never Saturday; one bar per week', () => {
    const days = starts('1d', '2024-01-22T00:00:00Z', '2024-01-29T00:00:00Z');
    expect(days.map((d) => new Date(d).getUTCDay())).toEqual([1, 2, 3, 4, 5, 0]);
    expect(starts('1w', '2024-01-01T00:00:00Z', '2024-01-29T00:00:00Z')).toEqual([
      '2024-01-01T00:00Z',
      '2024-01-08T00:00Z',
      '2024-01-15T00:00Z',
      '2024-01-22T00:00Z',
    ]);
  });

  it('starts at the first whole bar at or after `from` and yields nothing for an empty span', () => {
    expect(starts('15m', '2024-01-24T10:07:00Z', '2024-01-24T11:00:00Z')).toEqual([
      '2024-01-24T10:15Z',
      '2024-01-24T10:30Z',
      '2024-01-24T10:45Z',
    ]);
    expect(starts('5m', '2024-01-27T00:00:00Z', '2024-01-28T00:00:00Z')).toEqual([]);
    expect(starts('5m', '2024-01-24T10:00:00Z', '2024-01-24T10:00:00Z')).toEqual([]);
  });

  it('counts a whole trading week of 5-minute bars', () => {
    expect(starts('5m', '2024-01-21T00:00:00Z', '2024-01-28T00:00:00Z')).toHaveLength(5 * 24 * 12);
  });
});
