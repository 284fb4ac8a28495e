import { describe, expect, it } from '@jest/globals';
import { forexOpenIntervals, isForexOpen } from './market-hours.js';

const utc = (iso: string) => Date.parse(iso);
const interval = (start: string, end: string) => ({ start: utc(start), end: utc(end) });

describe('forex market hours (Sunday 17:00 to Friday 17:00 New York)', () => {
  it('is closed on Saturday and open midweek', () => {
    expect(isForexOpen(utc('2024-01-27T12:00:00Z'))).toBe(false); // Saturday
    expect(isForexOpen(utc('2024-01-24T03:00:00Z'))).toBe(true); // Wednesday
    expect(isForexOpen(utc('2024-01-22T00:00:00Z'))).toBe(true); // Monday midnight UTC
  });

  it('opens at 22:00 UTC on a winter Sunday and closes at 22:00 UTC on Friday', () => {
    expect(isForexOpen(utc('2024-01-28T21:59:59.999Z'))).toBe(false);
    expect(isForexOpen(utc('2024-01-28T22:00:00Z'))).toBe(true);
    expect(isForexOpen(utc('2024-01-26T21:59:59.999Z'))).toBe(true);
    expect(isForexOpen(utc('2024-01-26T22:00:00Z'))).toBe(false);
  });

  it('follows the March change to daylight time (Sunday 2024-03-10)', () => {
    // The week before still closes at 17:00 EST = 22:00 UTC …
    expect(isForexOpen(utc('2024-03-08T21:30:00Z'))).toBe(true);
    expect(isForexOpen(utc('2024-03-08T22:00:00Z'))).toBe(false);
    // … and the week of the change opens at 17:00 EDT = 21:00 UTC.
    expect(isForexOpen(utc('2024-03-10T20:59:59.999Z'))).toBe(false);
    expect(isForexOpen(utc('2024-03-10T21:00:00Z'))).toBe(true);
    expect(forexOpenIntervals(utc('2024-03-04T00:00:00Z'), utc('2024-03-16T00:00:00Z'))).toEqual([
      interval('2024-03-04T00:00:00Z', '2024-03-08T22:00:00Z'),
      interval('2024-03-10T21:00:00Z', '2024-03-15T21:00:00Z'),
    ]);
  });

  it('follows the November change back to standard time (Sunday 2024-11-03)', () => {
    expect(isForexOpen(utc('2024-11-01T20:59:59.999Z'))).toBe(true);
    expect(isForexOpen(utc('2024-11-01T21:00:00Z'))).toBe(false);
    expect(isForexOpen(utc('2024-11-03T21:30:00Z'))).toBe(false);
    expect(isForexOpen(utc('2024-11-03T22:00:00Z'))).toBe(true);
    expect(forexOpenIntervals(utc('2024-10-30T00:00:00Z'), utc('2024-11-09T00:00:00Z'))).toEqual([
      interval('2024-10-30T00:00:00Z', '2024-11-01T21:00:00Z'),
      interval('2024-11-03T22:00:00Z', '2024-11-08T22:00:00Z'),
    ]);
  });

  it('returns nothing for a range inside a weekend and clips ranges that start in one', () => {
    expect(forexOpenIntervals(utc('2024-01-27T00:00:00Z'), utc('2024-01-28T21:00:00Z'))).toEqual([]);
    expect(forexOpenIntervals(utc('2024-01-27T00:00:00Z'), utc('2024-01-29T00:00:00Z'))).toEqual([
      interval('2024-01-28T22:00:00Z', '2024-01-29T00:00:00Z'),
    ]);
    expect(forexOpenIntervals(utc('2024-01-29T00:00:00Z'), utc('2024-01-29T00:00:00Z'))).toEqual([]);
  });

  it('agrees with isForexOpen at every hour of a year', () => {
    const from = utc('2024-01-01T00:00:00Z');
    const to = utc('2025-01-01T00:00:00Z');
    const intervals = forexOpenIntervals(from, to);
    for (let t = from; t < to; t += 3600_000) {
      const inside = intervals.some((i) => i.start <= t && t < i.end);
      if (inside !== isForexOpen(t)) throw new Error(`disagree at ${new Date(t).toISOString()}`);
    }
    expect(intervals).toHaveLength(53);
  });
});
