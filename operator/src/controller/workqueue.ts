// A work queue of object keys ("namespace/name") with client-go's semantics
// (k8s.io/client-go/util/workqueue queue.go):
// - a key is queued at most once however many events arrive for it (the `dirty` set);
// - a key is processed by at most one worker at a time (the `processing` set);
// - a key added while it is being processed is queued again once, after done(key), so the
//   change is never lost and never handled concurrently with itself.
// Plus delayed adds (addAfter, keeping the earliest) and rate-limited adds for retries.
import type { RateLimiter } from './rate-limiter.js';

export interface WorkQueueMetrics {
  depth: { set(value: number): void };
  adds: { inc(): void };
  retries: { inc(): void };
}

const noMetrics: WorkQueueMetrics = { depth: { set() {} }, adds: { inc() {} }, retries: { inc() {} } };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    private readonly rateLimiter: RateLimiter,
    private readonly metrics: WorkQueueMetrics = noMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  add(key: string): void {
    if (this.closed || this.dirty.has(key)) return;
    this.metrics.adds.inc();
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() queues it again
    this.enqueue(key);
  }

  /** Hands a dirty key to an idle worker, or queues it. */
  private enqueue(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
      this.metrics.depth.set(this.queue.length);
    }
  }

  /** The next key to process, waiting for one; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics.depth.set(this.queue.length);
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.closed) this.enqueue(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) return this.add(key);
    const at = this.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  /** Retry after a failure: the delay grows with each failure of this key. */
  addRateLimited(key: string): void {
    this.metrics.retries.inc();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** The key succeeded: its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.retries(key);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Stops handing out keys: waiting and future get() calls return undefined. */
  shutDown(): void {
    this.closed = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.metrics.depth.set(0);
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
