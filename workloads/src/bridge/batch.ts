// A batch that is written when it is full or when its oldest item has waited long enough,
// whichever comes first. Pure bookkeeping with an injectable clock: the consumer loop
// decides when to look, this decides what is due.
export class Batch<T> {
  private items: T[] = [];
  private firstAt: number | undefined;

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

  /** When the batch must be written, or undefined while it is empty. */
  dueAt(): number | undefined {
    return this.firstAt === undefined ? undefined : this.firstAt + this.maxWaitMs;
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
    return taken;
  }
}
