import { describe, expect, it } from '@jest/globals';
import { QuoteGenerator, type Quote } from './quote-generator.js';
import { gridForRate, gridRate, quoteSegments, QuoteWindow } from './quote-timeline.js';

const utc = (iso: string) => Date.parse(iso);

describe('quote timeline', () => {
  it('turns rates into whole-millisecond grids', () => {
    expect(gridForRate(5)).toEqual({ periodMs: 200, perSlot: 1 });
    expect(gridForRate(3)).toEqual({ periodMs: 333, perSlot: 1 });
    expect(gridForRate(4 / 60)).toEqual({ periodMs: 15_000, perSlot: 1 });
    expect(gridForRate(5000)).toEqual({ periodMs: 1, perSlot: 5 });
    expect(gridRate(gridForRate(5000))).toBe(5000);
    expect(() => gridForRate(0)).toThrow('positive');
  });

  it('switches from the history grid (market hours only) to the live grid', () => {
    const options = {
      historyGrid: gridForRate(1 / 60),
      liveGrid: gridForRate(2),
      liveFromMs: utc('2024-05-05T00:00:00Z'), // a Sunday, market closed until 21:00 UTC
      liveRespectsMarketHours: false,
    };
    const segments = quoteSegments(options, utc('2024-05-03T20:59:00Z'), utc('2024-05-05T00:00:02Z'));
    expect(segments).toEqual([
      { start: utc('2024-05-03T20:59:00Z'), end: utc('2024-05-03T21:00:00Z'), grid: options.historyGrid },
      { start: utc('2024-05-05T00:00:00Z'), end: utc('2024-05-05T00:00:02Z'), grid: options.liveGrid },
    ]);
    const window = new QuoteWindow(new QuoteGenerator(1, 'EUR/USD'), segments);
    const times: number[] = [];
    window.forEachQuote(0, Number.MAX_SAFE_INTEGER, (q: Quote) => void times.push(q.t));
    expect(times).toEqual([
      utc('2024-05-03T20:59:00Z'),
      ...[0, 500, 1000, 1500].map((d) => options.liveFromMs + d),
    ]);
    expect(window.nextQuoteTime(utc('2024-05-03T20:59:00.001Z'))).toBe(options.liveFromMs);
    expect(window.previousQuoteTime(options.liveFromMs - 1)).toBe(utc('2024-05-03T20:59:00Z'));
    expect(window.previousQuoteTime(utc('2024-05-03T20:58:59Z'))).toBeUndefined();
    expect(window.nextQuoteTime(options.liveFromMs + 1501)).toBeUndefined();
  });

  it('applies market hours to the live grid when asked to', () => {
    const options = {
      historyGrid: gridForRate(1),
      liveGrid: gridForRate(1),
      liveFromMs: 0,
      liveRespectsMarketHours: true,
    };
    expect(quoteSegments(options, utc('2024-05-04T00:00:00Z'), utc('2024-05-05T00:00:00Z'))).toEqual([]);
  });
});
