import { describe, expect, it } from '@jest/globals';
import { RunCoverage, committedCoverage, requiredIntervals, uncoveredMs } from './coverage.js';

const utc = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('coverage of a bar', () => {
  // Monday 2024-01-22, forex hours all day.
  const t0 = utc('2024-01-22T10:00:00Z');
  const segments = [
    { symbols: ['EUR/USD', 'GBP/USD'], fromMs: t0 + 2 * MIN, toMs: t0 + 20 * MIN, tickSeq: 100 },
    { symbols: ['EUR/USD', 'GBP/USD'], fromMs: t0 + 21 * MIN, toMs: t0 + 60 * MIN, tickSeq: 500 },
  ];

  it('joins the committed segments of a symbol; one not yet acked through does not count', () => {
    expect(committedCoverage(segments, 'EUR/USD', 500)).toEqual([
      { start: t0 + 2 * MIN, end: t0 + 20 * MIN + 1 },
      { start: t0 + 21 * MIN, end: t0 + 60 * MIN + 1 },
    ]);
    expect(committedCoverage(segments, 'EUR/USD', 499)).toEqual([
      { start: t0 + 2 * MIN, end: t0 + 20 * MIN + 1 },
    ]);
    expect(committedCoverage(segments, 'USD/JPY', 500)).toEqual([]);
  });

  it('is complete only where the whole window is covered and committed', () => {
    const c = new RunCoverage(segments, 500, 'forex');
    expect(c.complete('EUR/USD', '5m', t0)).toBe(false); // started at 10:02
    expect(c.complete('EUR/USD', '5m', t0 + 5 * MIN)).toBe(true);
    expect(c.complete('EUR/USD', '5m', t0 + 20 * MIN)).toBe(false); // restart 10:20 to 10:21
    expect(c.uncoveredMs('EUR/USD', t0 + 20 * MIN, t0 + 25 * MIN)).toBe(MIN - 1);
    expect(c.complete('EUR/USD', '15m', t0 + 30 * MIN)).toBe(true);
    expect(new RunCoverage(segments, 499, 'forex').complete('EUR/USD', '5m', t0 + 30 * MIN)).toBe(false);
  });

  it('a silent symbol is covered while the connection is up', () => {
    expect(new RunCoverage(segments, 500, 'forex').complete('GBP/USD', '5m', t0 + 5 * MIN)).toBe(true);
  });

  it('never needs the weekend covered (forex hours), unless the feed streams always', () => {
    const saturday = utc('2024-01-20T00:00:00Z');
    const none = new RunCoverage([], 0, 'forex');
    expect(none.complete('EUR/USD', '1d', saturday)).toBe(true);
    expect(none.uncoveredMs('EUR/USD', saturday, utc('2024-01-21T22:00:00Z'))).toBe(0);
    // The Sunday bar straddling the open needs its open part: 22:00 to 24:00 UTC in winter.
    expect(none.uncoveredMs('EUR/USD', utc('2024-01-21T00:00:00Z'), utc('2024-01-22T00:00:00Z'))).toBe(
      2 * 60 * MIN,
    );
    expect(new RunCoverage([], 0, 'always').complete('EUR/USD', '1d', saturday)).toBe(false);
    expect(requiredIntervals('always', 5, 5)).toEqual([]);
  });

  it('counts the uncovered part of required intervals', () => {
    expect(
      uncoveredMs(
        [{ start: 0, end: 100 }],
        [
          { start: 10, end: 20 },
          { start: 50, end: 200 },
        ],
      ),
    ).toBe(40);
    expect(uncoveredMs([{ start: 0, end: 100 }], [])).toBe(100);
    expect(uncoveredMs([{ start: 0, end: 100 }], [{ start: -5, end: 100 }])).toBe(0);
  });
});
