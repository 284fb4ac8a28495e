import { describe, expect, it } from '@jest/globals';
import { expectedBarStarts } from './expected-bars.js';
import type { MissingBar } from './gaps.js';
import { RangePlanner, inRuns, maxRequestSpanMs, unansweredIntervals } from './ranges.js';

const utc = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

/** Every expected bar in [from, to) as missing, one gap. */
function allMissing(tf: '5m' | '1h' | '1d', from: string, to: string): MissingBar[] {
  return [...expectedBarStarts(tf, utc(from), utc(to))].map((start, i) => ({ start, continuesGap: i > 0 }));
}

describe('request span bound', () => {
  it('keeps minute and hour requests to a month and lets day and week requests take a whole window', () => {
    for (const tf of ['5m', '15m', '30m', '1h', '4h'] as const) expect(maxRequestSpanMs(tf)).toBe(31 * DAY);
    expect(maxRequestSpanMs('1d')).toBe(50_000 * DAY);
    expect(maxRequestSpanMs('1w')).toBe(50_000 * DAY);
  });
});

describe('RangePlanner', () => {
  it('puts one hole into one request with one run', () => {
    const planner = new RangePlanner('5m');
    for (const bar of allMissing('5m', '2024-01-24T10:00:00Z', '2024-01-24T10:15:00Z')) planner.add(bar);
    expect(planner.ranges).toEqual([
      {
        timeframe: '5m',
        fromMs: utc('2024-01-24T10:00:00Z'),
        toMs: utc('2024-01-24T10:10:00Z'),
        runs: [{ first: utc('2024-01-24T10:00:00Z'), last: utc('2024-01-24T10:10:00Z') }],
        missingBars: 3,
      },
    ]);
    expect([planner.gaps, planner.missingBars]).toEqual([1, 3]);
  });

  it('joins holes a week apart into one request, keeping them apart as runs', () => {
    const planner = new RangePlanner('1h');
    planner.add({ start: utc('2024-01-08T10:00:00Z'), continuesGap: false });
    planner.add({ start: utc('2024-01-15T10:00:00Z'), continuesGap: false });
    planner.add({ start: utc('2024-01-15T11:00:00Z'), continuesGap: true });
    expect(planner.ranges).toHaveLength(1);
    expect(planner.ranges[0]!.runs).toHaveLength(2);
    expect(planner.gaps).toBe(2);
  });

  it('splits three months of missing 5-minute bars into requests of at most a month, losing none', () => {
    const planner = new RangePlanner('5m');
    const missing = allMissing('5m', '2024-01-01T00:00:00Z', '2024-04-01T00:00:00Z');
    for (const bar of missing) planner.add(bar);
    expect(planner.ranges).toHaveLength(3);
    for (const range of planner.ranges)
      expect(range.toMs + 300_000 - range.fromMs).toBeLessThanOrEqual(31 * DAY);
    expect(planner.ranges.reduce((n, r) => n + r.missingBars, 0)).toBe(missing.length);
    // Consecutive requests continue where the previous one stopped.
    for (let i = 1; i < planner.ranges.length; i++) {
      const next = missing.findIndex((m) => m.start > planner.ranges[i - 1]!.toMs);
      expect(planner.ranges[i]!.fromMs).toBe(missing[next]!.start);
    }
    expect(planner.gaps).toBe(1);
  });

  it('asks for two years of day bars in one request', () => {
    const planner = new RangePlanner('1d');
    for (const bar of allMissing('1d', '2023-01-01T00:00:00Z', '2025-01-01T00:00:00Z')) planner.add(bar);
    expect(planner.ranges).toHaveLength(1);
    // 731 days from Sunday 2023-01-01: 104 whole weeks and 3 days, so 104 Saturdays.
    expect(planner.ranges[0]!.missingBars).toBe(731 - 104);
  });
});

describe('runs and unanswered bars', () => {
  const runs = [
    { first: 100, last: 200 },
    { first: 500, last: 500 },
  ];
  it('tells whether a bar start is in a run', () => {
    expect([99, 100, 150, 200, 201, 500, 501].map((s) => inRuns(runs, s))).toEqual([
      false,
      true,
      true,
      true,
      false,
      true,
      false,
    ]);
  });

  it('groups the missing bars Polygon did not return into intervals, skipping the weekend', () => {
    const first = utc('2024-01-26T21:45:00Z');
    const last = utc('2024-01-28T22:10:00Z');
    const returned = new Set([utc('2024-01-26T21:50:00Z'), utc('2024-01-28T22:05:00Z')]);
    expect(unansweredIntervals('5m', [{ first, last }], returned)).toEqual([
      { start: first, end: utc('2024-01-26T21:50:00Z') },
      { start: utc('2024-01-26T21:55:00Z'), end: utc('2024-01-28T22:05:00Z') },
      { start: utc('2024-01-28T22:10:00Z'), end: utc('2024-01-28T22:15:00Z') },
    ]);
  });
});
