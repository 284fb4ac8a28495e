import { describe, expect, it } from '@jest/globals';
import { TIMEFRAMES, TIMEFRAME_MS, isBarStart, type Timeframe } from '../contracts/timeframes.js';
import { barCount, explicitWindow, scanChunks, scheduledWindow, type BarWindow } from './window.js';

const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const show = (w: BarWindow) => [w.timeframe, iso(w.start), iso(w.end)];

describe('scheduled window', () => {
  // Thursday 2024-01-25 10:07:31.123 UTC.
  const now = utc('2024-01-25T10:07:31.123Z');

  it('holds the last closed bar plus the look-back, for every timeframe', () => {
    const expected: Record<Timeframe, [string, string]> = {
      '5m': ['2024-01-25T09:50:00.000Z', '2024-01-25T10:05:00.000Z'],
      '15m': ['2024-01-25T09:15:00.000Z', '2024-01-25T10:00:00.000Z'],
      '30m': ['2024-01-25T08:30:00.000Z', '2024-01-25T10:00:00.000Z'],
      '1h': ['2024-01-25T07:00:00.000Z', '2024-01-25T10:00:00.000Z'],
      '4h': ['2024-01-24T20:00:00.000Z', '2024-01-25T08:00:00.000Z'],
      '1d': ['2024-01-22T00:00:00.000Z', '2024-01-25T00:00:00.000Z'],
      '1w': ['2024-01-01T00:00:00.000Z', '2024-01-22T00:00:00.000Z'],
    };
    for (const tf of TIMEFRAMES) {
      const w = scheduledWindow(tf, now, 2);
      expect(show(w)).toEqual([tf, ...expected[tf]]);
      expect(barCount(w)).toBe(3);
    }
  });

  it('builds exactly the bar that just closed when the look-back is 0', () => {
    const w = scheduledWindow('1h', utc('2024-01-25T11:00:04Z'), 0);
    expect(show(w)).toEqual(['1h', '2024-01-25T10:00:00.000Z', '2024-01-25T11:00:00.000Z']);
  });

  it('treats a run exactly on a boundary as after it: the bar ending there is closed', () => {
    expect(show(scheduledWindow('5m', utc('2024-01-25T10:05:00Z'), 0))).toEqual([
      '5m',
      '2024-01-25T10:00:00.000Z',
      '2024-01-25T10:05:00.000Z',
    ]);
    // One millisecond earlier, that bar is still in progress.
    expect(show(scheduledWindow('5m', utc('2024-01-25T10:04:59.999Z'), 0))).toEqual([
      '5m',
      '2024-01-25T09:55:00.000Z',
      '2024-01-25T10:00:00.000Z',
    ]);
  });

  it('runs the weekly job on Monday 00:00 for the week that just ended (Monday to Monday)', () => {
    const w = scheduledWindow('1w', utc('2024-01-29T00:00:00Z'), 1);
    expect(show(w)).toEqual(['1w', '2024-01-15T00:00:00.000Z', '2024-01-29T00:00:00.000Z']);
    expect(new Date(w.start).getUTCDay()).toBe(1);
    // Sunday evening (forex open) is still in the week that began the Monday before.
    expect(scheduledWindow('1w', utc('2024-01-28T22:00:00Z'), 0).end).toBe(utc('2024-01-22T00:00:00Z'));
  });

  it('starts 4h bars at 00/04/08/12/16/20 UTC and 1d at midnight', () => {
    expect(show(scheduledWindow('4h', utc('2024-01-25T03:59:59Z'), 0))).toEqual([
      '4h',
      '2024-01-24T20:00:00.000Z',
      '2024-01-25T00:00:00.000Z',
    ]);
    expect(show(scheduledWindow('1d', utc('2024-01-25T00:00:00Z'), 0))).toEqual([
      '1d',
      '2024-01-24T00:00:00.000Z',
      '2024-01-25T00:00:00.000Z',
    ]);
  });
});

describe('explicit window (--from/--to)', () => {
  const now = utc('2024-02-01T12:00:00Z');

  it('aligns from down and to up to bar boundaries', () => {
    const w = explicitWindow('15m', utc('2024-01-25T10:07:00Z'), utc('2024-01-25T11:20:00Z'), now);
    expect(show(w)).toEqual(['15m', '2024-01-25T10:00:00.000Z', '2024-01-25T11:30:00.000Z']);
    expect(w.clampedToNow).toBe(false);
  });

  it('keeps boundaries that are already aligned; to is exclusive', () => {
    const w = explicitWindow('1h', utc('2024-01-25T10:00:00Z'), utc('2024-01-25T12:00:00Z'), now);
    expect(show(w)).toEqual(['1h', '2024-01-25T10:00:00.000Z', '2024-01-25T12:00:00.000Z']);
    expect(barCount(w)).toBe(2);
  });

  it('aligns weeks to Mondays', () => {
    const w = explicitWindow('1w', utc('2024-01-25T00:00:00Z'), utc('2024-01-25T00:00:01Z'), now);
    expect(show(w)).toEqual(['1w', '2024-01-22T00:00:00.000Z', '2024-01-29T00:00:00.000Z']);
  });

  it('leaves out bars that have not closed at now', () => {
    const w = explicitWindow('1d', utc('2024-01-30T00:00:00Z'), utc('2024-02-05T00:00:00Z'), now);
    expect(show(w)).toEqual(['1d', '2024-01-30T00:00:00.000Z', '2024-02-01T00:00:00.000Z']);
    expect(w.clampedToNow).toBe(true);
    // A range inside the bar in progress holds nothing.
    const empty = explicitWindow('1d', utc('2024-02-01T01:00:00Z'), utc('2024-02-01T02:00:00Z'), now);
    expect(empty.end).toBe(empty.start);
    expect(barCount(empty)).toBe(0);
  });
});

describe('scan chunks', () => {
  it('cuts a long range into day chunks aligned to every timeframe', () => {
    const windows: BarWindow[] = [
      { timeframe: '5m', start: utc('2024-01-24T22:00:00Z'), end: utc('2024-01-26T01:00:00Z') },
      { timeframe: '4h', start: utc('2024-01-24T20:00:00Z'), end: utc('2024-01-26T00:00:00Z') },
    ];
    const chunks = scanChunks(windows);
    expect(chunks.map((c) => [iso(c.start), iso(c.end)])).toEqual([
      ['2024-01-24T20:00:00.000Z', '2024-01-25T00:00:00.000Z'],
      ['2024-01-25T00:00:00.000Z', '2024-01-26T00:00:00.000Z'],
      ['2024-01-26T00:00:00.000Z', '2024-01-26T01:00:00.000Z'],
    ]);
    expect(chunks[0]!.windows.map(show)).toEqual([
      ['5m', '2024-01-24T22:00:00.000Z', '2024-01-25T00:00:00.000Z'],
      ['4h', '2024-01-24T20:00:00.000Z', '2024-01-25T00:00:00.000Z'],
    ]);
    expect(chunks[2]!.windows.map(show)).toEqual([
      ['5m', '2024-01-26T00:00:00.000Z', '2024-01-26T01:00:00.000Z'],
    ]);
    // Every piece still holds whole bars.
    for (const c of chunks) {
      for (const w of c.windows) {
        expect(isBarStart(w.timeframe, w.start) && isBarStart(w.timeframe, w.end)).toBe(true);
      }
    }
  });

  it('uses week chunks from Monday when 1w is among the timeframes', () => {
    const chunks = scanChunks([
      { timeframe: '1w', start: utc('2024-01-15T00:00:00Z'), end: utc('2024-01-29T00:00:00Z') },
      { timeframe: '1d', start: utc('2024-01-24T00:00:00Z'), end: utc('2024-01-25T00:00:00Z') },
    ]);
    expect(chunks.map((c) => [iso(c.start), iso(c.end), c.windows.map((w) => w.timeframe)])).toEqual([
      ['2024-01-15T00:00:00.000Z', '2024-01-22T00:00:00.000Z', ['1w']],
      ['2024-01-22T00:00:00.000Z', '2024-01-29T00:00:00.000Z', ['1w', '1d']],
    ]);
  });

  it('covers each bar exactly once, and nothing for empty windows', () => {
    expect(scanChunks([{ timeframe: '1h', start: 0, end: 0 }])).toEqual([]);
    const w: BarWindow = {
      timeframe: '30m',
      start: utc('2024-01-20T05:30:00Z'),
      end: utc('2024-01-23T18:00:00Z'),
    };
    const pieces = scanChunks([w]).flatMap((c) => c.windows);
    expect(pieces.reduce((n, p) => n + barCount(p), 0)).toBe(barCount(w));
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.start).toBe(pieces[i - 1]!.end);
    expect(TIMEFRAME_MS['30m'] * barCount(w)).toBe(w.end - w.start);
  });
});
