// When quotes exist. Quotes sit on a fixed time grid anchored at the Unix epoch (so a
// window always contains the same quotes, whoever asks), at one of two densities:
// - history, before `liveFromMs`: `historyGrid` (sparse, so years of REST bars are cheap),
//   and only while the forex market is open;
// - live, from `liveFromMs` on: `liveGrid`, the rate the WebSocket streams at, during
//   market hours only if the live stream respects them.
// A REST bar for a window is exact (equal to aggregating what the WebSocket sent) whenever
// the window lies in the live part; the history part is exact with respect to itself.
import { forexOpenIntervals, type TimeInterval } from '../contracts/market-hours.js';
import type { Quote, QuoteGenerator } from './quote-generator.js';

/** `perSlot` quotes every `periodMs`, at times that are multiples of `periodMs`. */
export interface QuoteGrid {
  periodMs: number;
  perSlot: number;
}

/**
 * Grid for a rate. Up to 1000/s one quote per slot at a whole-ms period (3/s becomes one
 * every 333 ms); above that several quotes share each millisecond.
 */
export function gridForRate(quotesPerSecond: number): QuoteGrid {
  if (!(quotesPerSecond > 0)) throw new Error(`quote rate must be positive, got ${quotesPerSecond}`);
  if (quotesPerSecond <= 1000)
    return { periodMs: Math.max(1, Math.round(1000 / quotesPerSecond)), perSlot: 1 };
  return { periodMs: 1, perSlot: Math.round(quotesPerSecond / 1000) };
}

/** Quotes per second that a grid actually produces. */
export function gridRate(grid: QuoteGrid): number {
  return (grid.perSlot * 1000) / grid.periodMs;
}

export interface TimelineOptions {
  historyGrid: QuoteGrid;
  liveGrid: QuoteGrid;
  liveFromMs: number;
  liveRespectsMarketHours: boolean;
}

export interface QuoteSegment extends TimeInterval {
  grid: QuoteGrid;
}

/** The stretches of [fromMs, toMs) that have quotes, with their grid, in time order. */
export function quoteSegments(options: TimelineOptions, fromMs: number, toMs: number): QuoteSegment[] {
  const segments: QuoteSegment[] = [];
  const historyEnd = Math.min(toMs, options.liveFromMs);
  for (const open of forexOpenIntervals(fromMs, historyEnd))
    segments.push({ ...open, grid: options.historyGrid });
  const liveStart = Math.max(fromMs, options.liveFromMs);
  if (liveStart < toMs) {
    const live = options.liveRespectsMarketHours
      ? forexOpenIntervals(liveStart, toMs)
      : [{ start: liveStart, end: toMs }];
    for (const open of live) segments.push({ ...open, grid: options.liveGrid });
  }
  return segments;
}

/** The quotes of one symbol over a precomputed list of segments (one REST request). */
export class QuoteWindow {
  private readonly buffer: Quote[] = [];

  constructor(
    readonly generator: QuoteGenerator,
    private readonly segments: QuoteSegment[],
  ) {}

  /** Time of the first quote at or after `t`, if any. */
  nextQuoteTime(t: number): number | undefined {
    for (let i = this.segmentIndexAtOrAfter(t); i < this.segments.length; i++) {
      const { start, end, grid } = this.segments[i]!;
      const slot = Math.ceil(Math.max(t, start) / grid.periodMs) * grid.periodMs;
      if (slot < end) return slot;
    }
    return undefined;
  }

  /** Time of the last quote at or before `t`, if any. */
  previousQuoteTime(t: number): number | undefined {
    for (let i = this.segmentIndexAtOrAfter(t); i >= 0; i--) {
      const segment = this.segments[i];
      if (!segment) continue;
      const { start, end, grid } = segment;
      const slot = Math.floor(Math.min(t, end - 1) / grid.periodMs) * grid.periodMs;
      if (slot >= start) return slot;
    }
    return undefined;
  }

  /** Calls `visit` for every quote with fromMs <= t < toMs, in time order. */
  forEachQuote(fromMs: number, toMs: number, visit: (quote: Quote) => void): void {
    for (let i = this.segmentIndexAtOrAfter(fromMs); i < this.segments.length; i++) {
      const { start, end, grid } = this.segments[i]!;
      if (start >= toMs) break;
      const stop = Math.min(end, toMs);
      for (
        let t = Math.ceil(Math.max(fromMs, start) / grid.periodMs) * grid.periodMs;
        t < stop;
        t += grid.periodMs
      ) {
        this.buffer.length = 0;
        this.generator.quotesAt(t, grid.perSlot, this.buffer);
        for (const quote of this.buffer) visit(quote);
      }
    }
  }

  /** Index of the first segment that ends after `t` (segments.length if none). */
  private segmentIndexAtOrAfter(t: number): number {
    let low = 0;
    let high = this.segments.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.segments[mid]!.end <= t) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
