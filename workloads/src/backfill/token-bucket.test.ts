import { describe, expect, it } from '@jest/globals';
import { TokenBucket, type Clock } from './token-bucket.js';

/** A clock that only moves when the bucket sleeps, recording every sleep. */
function fakeClock(): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    advance: (ms) => void (now += ms),
  };
}

describe('TokenBucket', () => {
  it('lets the first request through and spaces the next ones by 60 s / rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(5, 1, clock);
    for (let i = 0; i < 4; i++) await bucket.take();
    expect(clock.sleeps).toEqual([12_000, 12_000, 12_000]);
  });

  it('never puts more than the rate into any minute with the default capacity of one', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(5, 1, clock);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      await bucket.take();
      times.push(clock.now());
    }
    for (const t of times)
      expect(times.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(5);
  });

  it('refills while idle, up to its capacity', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(60, 3, clock);
    for (let i = 0; i < 3; i++) await bucket.take();
    expect(clock.sleeps).toEqual([]);
    clock.advance(10 * 60_000);
    for (let i = 0; i < 4; i++) await bucket.take();
    expect(clock.sleeps).toEqual([1000]);
  });

  it('starts saving up from zero after drain() (a 429)', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(6, 1, clock);
    clock.advance(60_000);
    bucket.drain();
    await bucket.take();
    expect(clock.sleeps).toEqual([10_000]);
  });

  it('rejects a take when its signal is aborted', async () => {
    const bucket = new TokenBucket(5, 1, fakeClock());
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(bucket.take(controller.signal)).rejects.toThrow('stop');
  });
});
