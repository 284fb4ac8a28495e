import { describe, expect, it } from '@jest/globals';
import { Batch } from './batch.js';

describe('a batch written by size or by time', () => {
  const clock = () => {
    let now = 1_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('is due when full, before its time is up', () => {
    const c = clock();
    const batch = new Batch<number>('live', 3, 5_000, c.now);
    batch.add(1);
    batch.add(2);
    expect(batch.isDue()).toBe(false);
    expect(batch.room).toBe(1);
    batch.add(3);
    expect(batch.isDue()).toBe(true);
    expect(batch.take()).toEqual([1, 2, 3]);
    expect(batch.size).toBe(0);
  });

  it('is due when its oldest item has waited maxWait, counted from the first item', () => {
    const c = clock();
    const batch = new Batch<string>('historical', 1000, 5_000, c.now);
    expect(batch.dueAt()).toBeUndefined();
    c.advance(60_000); // an idle batch does not age
    batch.add('a');
    expect(batch.dueAt()).toBe(66_000);
    c.advance(4_999);
    batch.add('b');
    expect(batch.isDue()).toBe(false);
    c.advance(1);
    expect(batch.isDue()).toBe(true);
    expect(batch.take()).toEqual(['a', 'b']);
    expect(batch.isDue()).toBe(false);
    batch.add('c'); // the clock restarts with the next first item
    expect(batch.dueAt()).toBe(c.now() + 5_000);
  });

  it('an empty batch is never due', () => {
    const batch = new Batch<number>('live', 1, 0);
    expect(batch.isDue()).toBe(false);
    expect(batch.take()).toEqual([]);
  });

  it('is due lingerMs after its oldest item once the stream had nothing more, until taken', () => {
    const c = clock();
    const batch = new Batch<number>('live', 1000, 1_000, c.now, 50);
    batch.markDrained(); // an empty batch stays not due
    expect(batch.isDue()).toBe(false);
    batch.add(1);
    c.advance(20);
    batch.add(2);
    expect(batch.dueAt()).toBe(2_000);
    batch.markDrained();
    expect(batch.dueAt()).toBe(1_050);
    expect(batch.isDue()).toBe(false);
    c.advance(30);
    expect(batch.isDue()).toBe(true);
    expect(batch.heldSince()).toBe(1_000);
    expect(batch.take()).toEqual([1, 2]);
    batch.add(3); // the next batch fills (or waits) again
    expect(batch.dueAt()).toBe(c.now() + 1_000);
    expect(batch.isDue()).toBe(false);
  });

  it('a drained batch never waits longer than its own maxWait', () => {
    const batch = new Batch<number>('live', 1000, 10, () => 0, 50);
    batch.add(1);
    batch.markDrained();
    expect(batch.dueAt()).toBe(10);
  });
});
