// Spans of quotes the collector knows it missed, turned into feed_gap events for the gap
// filler. Times are quote times (Polygon `t`) wherever a quote tells us, because the gap
// filler repairs bars by quote time (and a replaying simulator's quote times are not the
// wall clock).
import type { FeedGap } from '../contracts/messages.js';

type Span = Omit<FeedGap, 'detected_at'>;

/**
 * Disconnects: a span opens when the connection drops and closes with the first quote
 * after the re-subscription. Its start is the last quote received before the drop (nothing
 * after it can have been seen), or the wall-clock time of the drop when no quote had
 * arrived yet; its end is the first quote after. Drops in a row without a quote in
 * between make one span.
 */
export class DisconnectGaps {
  private lastQuoteMs: number | undefined;
  private openSince: number | undefined;

  constructor(private readonly symbols: readonly string[]) {}

  get open(): boolean {
    return this.openSince !== undefined;
  }

  connectionLost(wallClockMs: number): void {
    this.openSince ??= this.lastQuoteMs ?? wallClockMs;
  }

  /** Call for every quote; returns the span it closes, if any. */
  quote(timestampMs: number): Span | undefined {
    this.lastQuoteMs = timestampMs;
    if (this.openSince === undefined) return undefined;
    const span = spanOf('disconnect', this.symbols, this.openSince, timestampMs);
    this.openSince = undefined;
    return span;
  }

  /** At shutdown: a span still open ends now (wall clock), so the gap filler still hears of it. */
  closeAt(wallClockMs: number): Span | undefined {
    if (this.openSince === undefined) return undefined;
    const span = spanOf('disconnect', this.symbols, this.openSince, wallClockMs);
    this.openSince = undefined;
    return span;
  }
}

/**
 * Buffer overflow: ticks dropped because the buffer was full, per symbol, from the
 * earliest to the latest dropped quote time. A symbol's span closes when one of its ticks
 * is accepted again.
 */
export class OverflowGaps {
  private readonly open = new Map<string, { start: number; end: number }>();

  get openCount(): number {
    return this.open.size;
  }

  dropped(symbol: string, timestampMs: number): void {
    const span = this.open.get(symbol);
    if (!span) this.open.set(symbol, { start: timestampMs, end: timestampMs });
    else {
      span.start = Math.min(span.start, timestampMs);
      span.end = Math.max(span.end, timestampMs);
    }
  }

  /** A tick of `symbol` was accepted; returns the span it closes, if any. */
  accepted(symbol: string): Span | undefined {
    const span = this.open.get(symbol);
    if (!span) return undefined;
    this.open.delete(symbol);
    return spanOf('buffer_overflow', [symbol], span.start, span.end);
  }

  /** At shutdown: every open span. */
  closeAll(): Span[] {
    const spans = [...this.open].map(([symbol, s]) => spanOf('buffer_overflow', [symbol], s.start, s.end));
    this.open.clear();
    return spans;
  }
}

function spanOf(kind: FeedGap['kind'], symbols: readonly string[], a: number, b: number): Span {
  // Replayed or out-of-order quotes can put the closing quote before the opening one.
  return { kind, symbols: [...symbols], start_ms: Math.min(a, b), end_ms: Math.max(a, b) };
}
