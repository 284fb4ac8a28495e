import { describe, expect, it } from '@jest/globals';
import { CoverageTracker } from './coverage.js';

function queue(offered = 0, confirmedBefore = 0) {
  return { offered, confirmedBefore };
}

describe('CoverageTracker', () => {
  it('claims coverage only up to a checkpoint whose ticks are all confirmed, minus the skew', () => {
    const t = new CoverageTracker(['EUR/USD'], 2000);
    expect(t.tick(1000, queue())).toBeUndefined(); // not subscribed yet
    t.started(10_000);
    expect(t.tick(15_000, queue(50, 10))).toBeUndefined(); // checkpoint at 15 s, position 50
    expect(t.tick(20_000, queue(90, 49))).toBeUndefined(); // tick 49 not confirmed yet
    const span = t.tick(25_000, queue(120, 50));
    expect(span).toMatchObject({ symbols: ['EUR/USD'], from_ms: 10_000, to_ms: 13_000 });
    // The next checkpoint is the one taken then (25 s).
    expect(t.tick(30_000, queue(130, 120))).toMatchObject({ from_ms: 10_000, to_ms: 23_000 });
  });

  it('ends the segment at a disconnect or drop; a checkpoint before the break still counts; a new segment starts anew', () => {
    const t = new CoverageTracker(['EUR/USD'], 0);
    t.started(0);
    t.tick(5000, queue(10, 0));
    t.broken();
    const before = t.tick(6000, queue(12, 10));
    expect(before).toMatchObject({ from_ms: 0, to_ms: 5000 });
    expect(t.tick(7000, queue(12, 12))).toBeUndefined(); // no segment, no new checkpoint
    t.started(8000);
    t.tick(9000, queue(13, 12));
    const after = t.tick(10_000, queue(13, 13));
    expect(after).toMatchObject({ from_ms: 8000, to_ms: 9000 });
    expect(after!.segment_id).not.toBe(before!.segment_id);
  });

  it('at a graceful stop claims up to the close only if every tick was confirmed', () => {
    const flushed = new CoverageTracker(['EUR/USD'], 1000);
    flushed.started(0);
    expect(flushed.final(10_000, queue(5, 5), true)).toMatchObject({ from_ms: 0, to_ms: 9000 });

    const lost = new CoverageTracker(['EUR/USD'], 1000);
    lost.started(0);
    lost.tick(4000, queue(3, 0));
    expect(lost.final(10_000, queue(5, 3), false)).toMatchObject({ to_ms: 3000 });
    const none = new CoverageTracker(['EUR/USD'], 1000);
    none.started(0);
    none.tick(4000, queue(3, 0));
    expect(none.final(10_000, queue(5, 2), false)).toBeUndefined();
  });
});
