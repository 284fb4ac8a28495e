// The bookkeeping of a publish queue that must not lose or reorder what it was given:
// a bounded ring of entries in arrival order, each pending, in flight or confirmed.
// Entries leave only when confirmed and everything before them is confirmed too, so the
// ring holds exactly the messages that are not yet durable. A failed send is retried
// before anything that comes after it (go-back-N, skipping what is already confirmed).

export enum EntryState {
  Pending = 0,
  InFlight = 1,
  Confirmed = 2,
}

export interface Entry<T> {
  readonly item: T;
  /** Position in arrival order (0, 1, 2, … over the life of the log). */
  readonly pos: number;
  state: EntryState;
  /** performance.now() of the latest send (the publisher's bookkeeping). */
  sentAt: number;
}

export class PendingLog<T> {
  private readonly ring: (Entry<T> | undefined)[];
  /** Position of the oldest entry held. */
  private head = 0;
  /** Position the next pushed entry gets. */
  private tail = 0;
  /** Position from which takeNext() looks for a pending entry. */
  private cursor = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`capacity must be >= 1, got ${capacity}`);
    this.ring = new Array<Entry<T> | undefined>(capacity);
  }

  /** Entries held: not yet confirmed, or confirmed behind an unconfirmed one. */
  get size(): number {
    return this.tail - this.head;
  }

  /** Entries ever pushed: a position (the next push gets it). */
  get pushed(): number {
    return this.tail;
  }

  /** Every entry before this position is confirmed. */
  get confirmedBefore(): number {
    return this.head;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Appends; false (and nothing stored) when the log is full. */
  push(item: T): boolean {
    if (this.full) return false;
    this.ring[this.tail % this.capacity] = { item, pos: this.tail, state: EntryState.Pending, sentAt: 0 };
    this.tail++;
    return true;
  }

  /** The oldest pending entry at or after the cursor, now marked in flight. */
  takeNext(): Entry<T> | undefined {
    while (this.cursor < this.tail) {
      const entry = this.ring[this.cursor % this.capacity]!;
      this.cursor++;
      if (entry.state === EntryState.Pending) {
        entry.state = EntryState.InFlight;
        return entry;
      }
    }
    return undefined;
  }

  /** True when takeNext() would return an entry. */
  get hasPending(): boolean {
    for (let pos = this.cursor; pos < this.tail; pos++) {
      if (this.ring[pos % this.capacity]!.state === EntryState.Pending) return true;
    }
    return false;
  }

  confirm(entry: Entry<T>): void {
    entry.state = EntryState.Confirmed;
    while (this.head < this.tail) {
      const index = this.head % this.capacity;
      if (this.ring[index]!.state !== EntryState.Confirmed) break;
      this.ring[index] = undefined;
      this.head++;
    }
    if (this.cursor < this.head) this.cursor = this.head;
  }

  /** The send failed or went unanswered: it is taken again before anything after it. */
  retry(entry: Entry<T>): void {
    if (entry.state === EntryState.Confirmed) return;
    entry.state = EntryState.Pending;
    if (entry.pos < this.cursor) this.cursor = entry.pos;
  }

  /** Items not yet confirmed, oldest first (what a shutdown gives up on). */
  unconfirmed(): T[] {
    const out: T[] = [];
    for (let pos = this.head; pos < this.tail; pos++) {
      const entry = this.ring[pos % this.capacity]!;
      if (entry.state !== EntryState.Confirmed) out.push(entry.item);
    }
    return out;
  }
}
