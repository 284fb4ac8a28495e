import { describe, expect, it } from '@jest/globals';
import { extendCoverage, scanWindow, type WindowSettings } from './scan-window.js';

const utc = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;
const settings: WindowSettings = { windowDays: 730, recentDays: 3, settleMs: 3600_000 };
const now = utc('2025-06-11T10:17:00Z');

describe('scan window', () => {
  it('checks the whole window on a first run, up to the last settled bar', () => {
    expect(scanWindow('5m', now, settings, undefined)).toEqual({
      start: utc('2023-06-12T10:15:00Z'),
      end: utc('2025-06-11T09:15:00Z'),
      firstRun: true,
      explicit: false,
    });
    expect(scanWindow('1d', now, settings, undefined).end).toBe(utc('2025-06-11T00:00:00Z'));
  });

  it('checks the recent days afterwards, or back to where the last run stopped', () => {
    const covered = { start: now - 730 * DAY - DAY, end: utc('2025-06-11T08:00:00Z') };
    expect(scanWindow('1h', now, settings, covered)).toMatchObject({
      start: utc('2025-06-08T10:00:00Z'),
      end: utc('2025-06-11T09:00:00Z'),
      firstRun: false,
    });
    const stale = { ...covered, end: utc('2025-05-01T00:00:00Z') };
    expect(scanWindow('1h', now, settings, stale).start).toBe(utc('2025-05-01T00:00:00Z'));
  });

  it('runs a first run again when the coverage does not reach back to the window start (longer window)', () => {
    const covered = { start: now - 30 * DAY, end: now - 2 * 3600_000 };
    expect(scanWindow('1h', now, settings, covered).firstRun).toBe(true);
  });

  it('takes explicit bounds, aligned to the timeframe and cut at the last settled bar', () => {
    expect(
      scanWindow('15m', now, settings, undefined, {
        fromMs: utc('2025-06-02T10:07:00Z'),
        toMs: utc('2025-06-02T11:01:00Z'),
      }),
    ).toEqual({
      start: utc('2025-06-02T10:00:00Z'),
      end: utc('2025-06-02T11:15:00Z'),
      firstRun: false,
      explicit: true,
    });
    expect(scanWindow('15m', now, settings, undefined, { fromMs: utc('2025-06-10T00:00:00Z') }).end).toBe(
      utc('2025-06-11T09:15:00Z'),
    );
  });
});

describe('coverage', () => {
  it('joins overlapping or touching spans and restarts after a disjoint one', () => {
    expect(extendCoverage(undefined, { start: 10, end: 20 })).toEqual({ start: 10, end: 20 });
    expect(extendCoverage({ start: 0, end: 15 }, { start: 10, end: 20 })).toEqual({ start: 0, end: 20 });
    expect(extendCoverage({ start: 0, end: 10 }, { start: 10, end: 20 })).toEqual({ start: 0, end: 20 });
    expect(extendCoverage({ start: 0, end: 5 }, { start: 10, end: 20 })).toEqual({ start: 10, end: 20 });
  });
});
