// Per-key request limit over a sliding window, as Polygon's "requests per minute" plans.
// A rejected request is not counted, so a client that backs off recovers once the oldest
// accepted requests leave the window.

export class SlidingWindowRateLimiter {
  private readonly accepted = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a request of `key`; false (and not counted) when the key is over its limit. */
  tryAcquire(key: string): boolean {
    const now = this.now();
    const times = (this.accepted.get(key) ?? []).filter((t) => t > now - this.windowMs);
    const allowed = times.length < this.limit;
    if (allowed) times.push(now);
    this.accepted.set(key, times);
    return allowed;
  }
}
