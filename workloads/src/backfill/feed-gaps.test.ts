import { describe, expect, it } from '@jest/globals';
import { feedGapMessageId, type FeedGap } from '../contracts/messages.js';
import { splitInterval } from './backfill.js';
import { repairTasksOf } from './feed-gaps.js';

const utc = (iso: string) => Date.parse(iso);

describe('feed-gap repair tasks', () => {
  const gap: FeedGap = {
    kind: 'disconnect',
    symbols: ['EUR/USD', 'NZD/USD'],
    start_ms: utc('2024-01-24T10:03:12Z'),
    end_ms: utc('2024-01-24T10:16:40Z'),
    detected_at: '2024-01-24T10:16:41.000Z',
  };

  it('covers every bar of every timeframe that overlaps the gap, for the configured symbols only', () => {
    const tasks = repairTasksOf(gap, 'system', ['EUR/USD', 'GBP/USD'], ['5m', '1h', '1w']);
    expect(
      tasks.map((t) => [
        t.symbol,
        t.timeframe,
        new Date(t.startMs).toISOString(),
        new Date(t.endMs).toISOString(),
      ]),
    ).toEqual([
      ['EUR/USD', '5m', '2024-01-24T10:00:00.000Z', '2024-01-24T10:20:00.000Z'],
      ['EUR/USD', '1h', '2024-01-24T10:00:00.000Z', '2024-01-24T11:00:00.000Z'],
      ['EUR/USD', '1w', '2024-01-22T00:00:00.000Z', '2024-01-29T00:00:00.000Z'],
    ]);
    expect(new Set(tasks.map((t) => t.gapId))).toEqual(new Set([feedGapMessageId(gap, 'system')]));
  });

  it('repairs the bar of a gap that is a single instant', () => {
    const instant = { ...gap, start_ms: utc('2024-01-24T10:05:00Z'), end_ms: utc('2024-01-24T10:05:00Z') };
    const [task] = repairTasksOf(instant, 'system', ['EUR/USD'], ['5m']);
    expect([task!.startMs, task!.endMs]).toEqual([utc('2024-01-24T10:05:00Z'), utc('2024-01-24T10:10:00Z')]);
  });

  it('cuts a long repair into request-sized pieces', () => {
    const pieces = splitInterval('5m', {
      start: utc('2024-01-01T00:00:00Z'),
      end: utc('2024-03-01T00:00:00Z'),
    });
    expect(pieces.map((p) => new Date(p.start).toISOString().slice(0, 10))).toEqual([
      '2024-01-01',
      '2024-02-01',
    ]);
    expect(pieces.at(-1)!.end).toBe(utc('2024-03-01T00:00:00Z'));
    expect(splitInterval('1d', { start: 0, end: 86_400_000 * 800 })).toHaveLength(1);
  });
});
