import { describe, expect, it } from '@jest/globals';
import { expectedBarStarts } from './expected-bars.js';
import { mergeIntervals, missingBars, type MissingBar } from './gaps.js';

const utc = (iso: string) => Date.parse(iso);
const FIVE_MINUTES = 300_000;

async function collect(bars: AsyncIterable<MissingBar>): Promise<MissingBar[]> {
  const out: MissingBar[] = [];
  for await (const bar of bars) out.push(bar);
  return out;
}

describe('missing bars', () => {
  const weekFrom = utc('2024-01-21T00:00:00Z');
  const weekTo = utc('2024-01-29T00:00:00Z');
  const week = () => expectedBarStarts('5m', weekFrom, weekTo);

  it('finds a hole on a Wednesday exactly and nothing else', async () => {
    const hole = [0, 1, 2].map((i) => utc('2024-01-24T10:00:00Z') + i * FIVE_MINUTES);
    const stored = [...week()].filter((s) => !hole.includes(s));
    const missing = await collect(missingBars(week(), stored, []));
    expect(missing).toEqual([
      { start: hole[0], continuesGap: false },
      { start: hole[1], continuesGap: true },
      { start: hole[2], continuesGap: true },
    ]);
  });

  it('never reports the weekend: an empty Friday evening and Sunday open are one gap', async () => {
    const stored = [...week()].filter(
      (s) => s < utc('2024-01-26T21:00:00Z') || s >= utc('2024-01-28T23:00:00Z'),
    );
    const missing = await collect(missingBars(week(), stored, []));
    expect(missing).toHaveLength(12 + 12);
    expect(missing.filter((m) => !m.continuesGap)).toHaveLength(1);
    expect(missing.every((m) => new Date(m.start).getUTCDay() !== 6)).toBe(true);
  });

  it('reads stored bars from an async stream and tolerates repeats', async () => {
    const all = [...week()];
    async function* stored() {
      for (const s of all) if (s !== all[5]) yield* [s, s];
    }
    expect(await collect(missingBars(week(), stored(), []))).toEqual([
      { start: all[5], continuesGap: false },
    ]);
  });

  it('skips bars inside excluded intervals (ranges Polygon answered empty)', async () => {
    const all = [...week()];
    const excluded = mergeIntervals([
      { start: all[0]!, end: all[2]! },
      { start: all[10]!, end: all[10]! + FIVE_MINUTES },
    ]);
    const missing = await collect(missingBars(all.slice(0, 12), [], excluded));
    expect(missing.map((m) => m.start)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 11].map((i) => all[i]));
    expect(missing.map((m) => m.continuesGap)).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('mergeIntervals', () => {
  it('sorts, joins overlapping and touching intervals and drops empty ones', () => {
    expect(
      mergeIntervals([
        { start: 50, end: 60 },
        { start: 0, end: 10 },
        { start: 10, end: 20 },
        { start: 15, end: 18 },
        { start: 30, end: 30 },
      ]),
    ).toEqual([
      { start: 0, end: 20 },
      { start: 50, end: 60 },
    ]);
  });
});
