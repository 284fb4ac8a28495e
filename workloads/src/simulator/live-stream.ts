// The live quote stream: every batch interval it takes the grid slots that have come due
// (time <= now), generates the quotes of the subscribed symbols for them, and hands them
// over in time order. Quote times are grid times, so the quotes sent are exactly the ones
// the REST side aggregates for the same window.
import { forexOpenIntervals, type TimeInterval } from '../contracts/market-hours.js';
import type { Logger } from '../runtime/logger.js';
import type { SimulatorMetrics } from './metrics.js';
import { QuoteGenerator, type Quote } from './quote-generator.js';
import type { QuoteGrid } from './quote-timeline.js';
import type { StreamEvent } from './ws-server.js';
import { quoteEventJson } from './ws-protocol.js';

export interface LiveStreamOptions {
  seed: number;
  symbols: readonly string[];
  grid: QuoteGrid;
  respectMarketHours: boolean;
  batchIntervalMs: number;
  /** After a stall longer than this (event loop blocked, host suspended) slots are skipped. */
  maxCatchUpMs: number;
  log: Logger;
  metrics: SimulatorMetrics;
  now?: () => number;
}

export interface StreamSink {
  wantedSymbols(): ReadonlySet<string>;
  publish(events: readonly StreamEvent[]): void;
}

const MARKET_HOURS_LOOKAHEAD_MS = 8 * 86_400_000;

export class LiveQuoteStream {
  private readonly generators = new Map<string, QuoteGenerator>();
  private readonly now: () => number;
  private nextSlot: number;
  private timer: NodeJS.Timeout | undefined;
  private openCache: { from: number; to: number; intervals: TimeInterval[] } | undefined;
  private readonly scratch: Quote[] = [];

  constructor(
    private readonly options: LiveStreamOptions,
    private readonly sink: StreamSink,
  ) {
    this.now = options.now ?? Date.now;
    for (const symbol of options.symbols)
      this.generators.set(symbol, new QuoteGenerator(options.seed, symbol));
    this.nextSlot = this.firstSlotAtOrAfter(this.now());
  }

  start(): void {
    this.nextSlot = this.firstSlotAtOrAfter(this.now());
    const tick = () => {
      this.emitDue(this.now());
      this.timer = setTimeout(tick, this.options.batchIntervalMs);
    };
    this.timer = setTimeout(tick, this.options.batchIntervalMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Generates and publishes the quotes of every slot with time <= now. */
  emitDue(now: number): void {
    const { grid, metrics, maxCatchUpMs } = this.options;
    if (now - this.nextSlot > maxCatchUpMs) {
      const resume = this.firstSlotAtOrAfter(now - maxCatchUpMs);
      const skipped = (resume - this.nextSlot) / grid.periodMs;
      metrics.quotesSkipped.inc(skipped * grid.perSlot * this.generators.size);
      this.options.log.warn(
        { skippedSlots: skipped, behindMs: now - this.nextSlot },
        'live stream fell behind; skipping',
      );
      this.nextSlot = resume;
    }
    metrics.streamLagSeconds.set(Math.max(0, now - this.nextSlot) / 1000);
    const wanted = this.sink.wantedSymbols();
    const generators = [...this.generators.values()].filter((g) => wanted.has(g.symbol));
    const events: StreamEvent[] = [];
    if (generators.length === 0) {
      // Nobody listens: the due slots pass unsent, as quotes nobody subscribed to.
      this.nextSlot = this.firstSlotAtOrAfter(now + 1);
      return;
    }
    for (; this.nextSlot <= now; this.nextSlot += grid.periodMs) {
      if (this.options.respectMarketHours && !this.isOpen(this.nextSlot)) continue;
      for (const generator of generators) {
        this.scratch.length = 0;
        generator.quotesAt(this.nextSlot, grid.perSlot, this.scratch);
        for (const quote of this.scratch) events.push({ symbol: quote.symbol, json: quoteEventJson(quote) });
      }
    }
    metrics.quotesGenerated.inc(events.length);
    this.sink.publish(events);
  }

  private firstSlotAtOrAfter(t: number): number {
    return Math.ceil(t / this.options.grid.periodMs) * this.options.grid.periodMs;
  }

  private isOpen(t: number): boolean {
    if (!this.openCache || t < this.openCache.from || t >= this.openCache.to) {
      const to = t + MARKET_HOURS_LOOKAHEAD_MS;
      this.openCache = { from: t, to, intervals: forexOpenIntervals(t, to) };
    }
    return this.openCache.intervals.some((i) => i.start <= t && t < i.end);
  }
}
