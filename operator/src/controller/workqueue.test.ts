import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

function counting() {
  const m = { depth: 0, adds: 0, retries: 0 };
  return {
    m,
    metrics: {
      depth: { set: (v: number) => void (m.depth = v) },
      adds: { inc: () => void m.adds++ },
      retries: { inc: () => void m.retries++ },
    },
  };
}

describe('work queue (client-go semantics)', () => {
  it('queues a key once however often it is added, in first-added order', async () => {
    const { m, metrics } = counting();
    const q = new WorkQueue(new ItemExponentialRateLimiter(), metrics);
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    q.add('ns/a');
    expect(q.length).toBe(2);
    expect(m).toEqual({ depth: 2, adds: 2, retries: 0 });
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(m.depth).toBe(0);
  });

  it('never hands out a key being processed; one added meanwhile comes back once after done', async () => {
    const q = new WorkQueue(new ItemExponentialRateLimiter());
    q.add('k');
    const key = await q.get();
    q.add('k');
    q.add('k');
    expect(q.length).toBe(0); // not queued while processing
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(key!);
    await Promise.resolve();
    expect(second).toBe('k');
    q.done('k');
    expect(q.length).toBe(0);
  });

  it('hands a key straight to a waiting worker', async () => {
    const q = new WorkQueue(new ItemExponentialRateLimiter());
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
    q.add('x'); // processing: remembered, not queued
    expect(q.length).toBe(0);
    q.done('x');
    expect(q.length).toBe(1);
  });

  it('releases workers on shutdown and ignores adds afterwards', async () => {
    const q = new WorkQueue(new ItemExponentialRateLimiter());
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('late');
    expect(await q.get()).toBeUndefined();
  });

  describe('delays', () => {
    beforeEach(() => void jest.useFakeTimers());
    afterEach(() => void jest.useRealTimers());

    it('adds after a delay, keeping the earliest of several', () => {
      const q = new WorkQueue(new ItemExponentialRateLimiter(), undefined, () => Date.now());
      q.addAfter('k', 10_000);
      q.addAfter('k', 1_000);
      q.addAfter('k', 5_000);
      jest.advanceTimersByTime(999);
      expect(q.length).toBe(0);
      jest.advanceTimersByTime(1);
      expect(q.length).toBe(1);
      jest.advanceTimersByTime(20_000);
      expect(q.length).toBe(1);
    });

    it('retries with per-key exponential backoff, reset by forget', async () => {
      const { m, metrics } = counting();
      const q = new WorkQueue(new ItemExponentialRateLimiter(5, 1_000_000), metrics, () => Date.now());
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) {
        q.addRateLimited('k');
        let waited = 0;
        while (q.length === 0 && waited < 10_000) {
          jest.advanceTimersByTime(1);
          waited++;
        }
        delays.push(waited);
        q.done((await q.get())!);
      }
      expect(delays).toEqual([5, 10, 20, 40]);
      expect(q.numRequeues('k')).toBe(4);
      expect(m.retries).toBe(4);
      q.forget('k');
      expect(q.numRequeues('k')).toBe(0);
    });
  });
});

describe('rate limiters', () => {
  it('per item: 5 ms doubling up to the cap, each key on its own', () => {
    const l = new ItemExponentialRateLimiter(5, 1_000_000);
    const first = Array.from({ length: 20 }, () => l.when('a'));
    expect(first.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(first.at(-1)).toBe(1_000_000);
    expect(l.when('b')).toBe(5);
    l.forget('a');
    expect(l.when('a')).toBe(5);
  });

  it('token bucket: a burst passes, then one per 1/qps', () => {
    let now = 0;
    const l = new BucketRateLimiter(10, 3, () => now);
    expect([l.when(), l.when(), l.when()]).toEqual([0, 0, 0]);
    expect(l.when()).toBe(100);
    expect(l.when()).toBe(200);
    now = 1000; // refilled (capped at the burst), minus the two reserved above
    expect(l.when()).toBe(0);
  });

  it('the controller default is the max of both', () => {
    const now = 0;
    const l = defaultControllerRateLimiter(() => now);
    expect(l.when('k')).toBe(5);
    expect(l.when('k')).toBe(10);
    const max = new MaxOfRateLimiter(
      new ItemExponentialRateLimiter(1000),
      new BucketRateLimiter(1, 1, () => now),
    );
    expect(max.when('x')).toBe(1000);
    expect(max.retries('x')).toBe(1);
  });
});
