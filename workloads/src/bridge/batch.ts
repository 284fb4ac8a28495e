// A batch that is written when it is full, when its oldest item has waited long enough, or
// when the stream had nothing more to give (markDrained), whichever comes first. Pure bookkeeping with an injectable clock: the consumer loop
// decides when to look, this decides what is due.
export class Batch<T> {
  private items: T[] = [];
  private firstAt: number | undefined;
  private drained = false;

  constructor(
    readonly name: string,
    readonly maxSize: number,
    readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
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
   * a light load the batch is written now rather than after maxWaitMs; under a heavy one
   * messages keep arriving with more pending, and the batch fills as before.
   */
  markDrained(): void {
    if (this.items.length > 0) this.drained = true;
  }

  /** When the oldest item arrived, or undefined while it is empty. */
  heldSince(): number | undefined {
    return this.firstAt;
  }

  /** When the batch must be written, or undefined while it is empty. */
  dueAt(): number | undefined {
    return this.firstAt === undefined ? undefined : this.firstAt + this.maxWaitMs;
  }

  isDue(): boolean {
    if (this.items.length === 0) return false;
    return this.drained || this.items.length >= this.maxSize || this.now() >= this.dueAt()!;
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
