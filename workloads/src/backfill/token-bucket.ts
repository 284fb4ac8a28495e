// Client-side pacing of Polygon REST requests: a token bucket refilled at the plan's
// requests per minute. Polygon counts requests over a sliding minute, so the bucket holds a
// single token by default: requests go out evenly (every 12 s on the free plan) and no
// minute ever holds more than the plan allows, where a fuller bucket would burst into 429s.
import { sleep } from '../runtime/backoff.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = { now: () => Date.now(), sleep };

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly perMs: number;

  constructor(
    requestsPerMinute: number,
    private readonly capacity = 1,
    private readonly clock: Clock = realClock,
  ) {
    if (!(requestsPerMinute > 0)) throw new Error('requestsPerMinute must be positive');
    this.perMs = requestsPerMinute / 60_000;
    this.tokens = capacity;
    this.updatedAt = clock.now();
  }

  /** Waits until a token is free and takes it. Rejects if `signal` aborts meanwhile. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.perMs), signal);
    }
  }

  /**
   * After a 429: the server's count is ahead of ours (another client on the same key, or a
   * restart within the minute), so start saving up again from zero.
   */
  drain(): void {
    this.refill();
    this.tokens = 0;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.perMs);
    this.updatedAt = now;
  }
}
