// A batch that is written when it is full, when its oldest item has waited long enough, or
// shortly after the stream had nothing more to give (markDrained), whichever comes first. Pure bookkeeping with an injectable clock: the consumer loop
// decides when to look, this decides what is due.
/**
 * How long a drained batch still waits for more, counted from its oldest item. Without it,
 * at 10,000 ticks/s every frame's ticks (a stream briefly empty after each) were their own
 * write: ~200 writes of ~50 rows a second and a third more bridge CPU per tick than batches
 * of 1000 (bench/e2e-latency.ts, bridge CPU per tick). 50 ms bounds that to 20 writes a
 * second at any rate and adds at most 50 ms to a tick's delay. The bridge takes it from
 * BRIDGE_DRAINED_LINGER.
 */
export const DRAINED_LINGER_MS = 50;

export class Batch<T> {
  private items: T[] = [];
  private firstAt: number | undefined;
  private drained = false;

  constructor(
    readonly name: string,
    readonly maxSize: number,
    readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
    private readonly lingerMs: number = DRAINED_LINGER_MS,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** How many more items fit before the batch is full. */
  get room(): number {
    return Math.max(0, this.maxSize - this.items.length);
  }

  add(item: T): void {
    if (this.items.length === 0) this.firstAt = this.now();
    this.items.push(item);
  }

  /**
   * The stream had nothing more when the last item arrived (its pending count was 0): under
   * a light load the batch is written once its oldest item is lingerMs old rather than after
   * maxWaitMs; under a heavy one messages keep arriving with more pending, and the batch
   * fills as before.
   */
  markDrained(): boolean {
    if (this.items.length === 0 || this.drained) return false;
    this.drained = true;
    return true; // its due time moved closer
  }

  /** When the oldest item arrived, or undefined while it is empty. */
  heldSince(): number | undefined {
    return this.firstAt;
  }

  /** When the batch must be written, or undefined while it is empty. */
  dueAt(): number | undefined {
    if (this.firstAt === undefined) return undefined;
    return this.firstAt + (this.drained ? Math.min(this.lingerMs, this.maxWaitMs) : this.maxWaitMs);
  }

  isDue(): boolean {
    if (this.items.length === 0) return false;
    return this.items.length >= this.maxSize || this.now() >= this.dueAt()!;
  }

  /** Everything held, oldest first (for keep-alives), without taking it. */
  peek(): readonly T[] {
    return this.items;
  }

  /** Takes every item out; the batch starts empty again. */
  take(): T[] {
    const taken = this.items;
    this.items = [];
    this.firstAt = undefined;
    this.drained = false;
    return taken;
  }
}
