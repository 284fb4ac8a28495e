import { describe, expect, it } from '@jest/globals';
import { SlidingWindowRateLimiter } from './rate-limiter.js';

describe('sliding window rate limiter', () => {
  it('allows N requests per window and key, without counting rejected ones', () => {
    let now = 0;
    const limiter = new SlidingWindowRateLimiter(2, 60_000, () => now);
    expect([limiter.tryAcquire('a'), limiter.tryAcquire('a'), limiter.tryAcquire('a')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(limiter.tryAcquire('b')).toBe(true);
    now = 30_000;
    expect(limiter.tryAcquire('a')).toBe(false);
    now = 60_000; // the first two requests (at 0) leave the window
    expect([limiter.tryAcquire('a'), limiter.tryAcquire('a'), limiter.tryAcquire('a')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
