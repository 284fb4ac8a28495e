import { describe, expect, it } from '@jest/globals';
import { QuoteGenerator, type Quote } from './quote-generator.js';

const T0 = Date.parse('2024-05-06T10:00:00Z');

function series(seed: number, symbol: string, count: number, stepMs: number): Quote[] {
  const generator = new QuoteGenerator(seed, symbol);
  return Array.from({ length: count }, (_, i) => generator.quoteAt(T0 + i * stepMs));
}

function decimalsOf(price: number): number {
  return (String(price).split('.')[1] ?? '').length;
}

describe('deterministic quote generator', () => {
  it('gives the same quotes for the same seed, whatever order they are asked in', () => {
    const forward = series(42, 'EUR/USD', 500, 200);
    const generator = new QuoteGenerator(42, 'EUR/USD');
    const backward = forward
      .map((_, i) => forward.length - 1 - i)
      .map((i) => generator.quoteAt(T0 + i * 200));
    expect(backward.reverse()).toEqual(forward);
    expect(series(42, 'EUR/USD', 500, 200)).toEqual(forward);
  });

  it('gives different quotes for a different seed or symbol', () => {
    const a = series(42, 'EUR/USD', 100, 200);
    const b = series(43, 'EUR/USD', 100, 200);
    const c = series(42, 'GBP/USD', 100, 200);
    const same = (x: Quote[], y: Quote[]) => x.filter((q, i) => q.bid === y[i]!.bid).length;
    expect(same(a, b)).toBeLessThan(10);
    expect(same(a, c)).toBe(0);
  });

  it.each([
    ['EUR/USD', 5, 0.9, 1.3],
    ['USD/JPY', 3, 120, 180],
    ['XAU/USD', 2, 1900, 2800],
    ['GBP/USD', 5, 1.05, 1.5],
  ])('%s: quotes with %i decimals near a realistic level, positive spread', (symbol, decimals, low, high) => {
    // One quote every 37 minutes over about four months.
    const quotes = series(7, symbol, 5000, 37 * 60_000);
    const wrong = quotes.filter(
      (q) =>
        decimalsOf(q.bid) > decimals ||
        decimalsOf(q.ask) > decimals ||
        !(q.ask > q.bid) ||
        !(q.bid > low && q.ask < high),
    );
    expect(wrong).toEqual([]);
    expect(quotes.filter((q) => decimalsOf(q.bid) === decimals).length).toBeGreaterThan(1000);
  });

  it('keeps EUR/USD spreads within 0.1 to 1 pip and moves the price between quotes', () => {
    const quotes = series(1, 'EUR/USD', 2000, 200);
    const spreads = quotes.map((q) => Math.round((q.ask - q.bid) * 1e5));
    expect(Math.min(...spreads)).toBe(1);
    expect(Math.max(...spreads)).toBe(10);
    expect(new Set(quotes.map((q) => q.bid)).size).toBeGreaterThan(20);
  });

  it('makes quotes that share a millisecond pairwise distinct', () => {
    const generator = new QuoteGenerator(3, 'XAU/USD');
    for (let t = T0; t < T0 + 200; t++) {
      const quotes: Quote[] = [];
      generator.quotesAt(t, 40, quotes);
      expect(quotes).toHaveLength(40);
      expect(new Set(quotes.map((q) => `${q.bid}/${q.ask}`)).size).toBe(40);
      expect(quotes.every((q) => q.t === t && q.ask > q.bid)).toBe(true);
    }
  });
});
