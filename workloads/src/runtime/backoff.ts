// Capped exponential backoff with full jitter (AWS architecture blog's "full jitter"):
// spreads reconnecting clients out instead of having them retry in lockstep.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: share of the delay that is randomised. 1 = full jitter. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Delay before the next attempt; grows with every call until reset(). */
  next(): number {
    const { initialMs, maxMs, jitter = 1, random = Math.random } = this.options;
    const ceiling = Math.min(maxMs, initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random());
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
