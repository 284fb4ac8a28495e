import { describe, expect, it } from '@jest/globals';
import { forexOpenIntervals } from '../contracts/market-hours.js';
import { barCalendar, scanBars, type AggregateBar } from './bars.js';
import { QuoteGenerator, type Quote } from './quote-generator.js';
import { gridForRate, quoteSegments, QuoteWindow, type TimelineOptions } from './quote-timeline.js';

const utc = (iso: string) => Date.parse(iso);

const timeline: TimelineOptions = {
  historyGrid: gridForRate(4 / 60),
  liveGrid: gridForRate(5),
  liveFromMs: utc('2024-05-08T00:00:00Z'),
  liveRespectsMarketHours: false,
};

function windowFor(symbol: string, from: number, to: number): QuoteWindow {
  return new QuoteWindow(new QuoteGenerator(42, symbol), quoteSegments(timeline, from, to));
}

/** What a client would compute from the quotes it received, one by one. */
function aggregateByHand(quotes: Quote[], barMs: number): AggregateBar[] {
  const bars = new Map<number, Quote[]>();
  for (const q of quotes) {
    const start = Math.floor(q.t / barMs) * barMs;
    bars.set(start, [...(bars.get(start) ?? []), q]);
  }
  return [...bars].map(([t, qs]) => {
    const mids = qs.map((q) => (q.bid + q.ask) / 2);
    const mean = mids.reduce((a, b) => a + b, 0) / mids.length;
    return {
      o: mids[0]!,
      h: Math.max(...mids),
      l: Math.min(...mids),
      c: mids.at(-1)!,
      v: qs.length,
      vw: Math.round(mean * 1e7) / 1e7,
      n: qs.length,
      t,
    };
  });
}

describe('bars from the quote timeline', () => {
  it('equals OHLC and count aggregated from the live quotes of the window (5/s grid)', () => {
    const from = utc('2024-05-08T10:00:00Z');
    const to = utc('2024-05-08T10:30:00Z');
    // The stream sends the quote of every 200 ms grid point.
    const generator = new QuoteGenerator(42, 'EUR/USD');
    const sent: Quote[] = [];
    for (let t = from; t < to; t += 200) sent.push(generator.quoteAt(t));
    const bars = [...scanBars(windowFor('EUR/USD', from, to), barCalendar(5, 'minute'), from, to - 1, 'asc')];
    expect(bars.map((b) => b.bar)).toEqual(aggregateByHand(sent, 5 * 60_000));
    expect(bars).toHaveLength(6);
    expect(bars.every((b) => b.bar.n === 1500 && b.baseCount === 5)).toBe(true);
  });

  it('has no history quotes over a weekend and only market-hour quotes around it', () => {
    const from = utc('2024-05-03T00:00:00Z'); // Friday
    const to = utc('2024-05-07T00:00:00Z'); // Tuesday
    const bars = [...scanBars(windowFor('USD/JPY', from, to), barCalendar(1, 'hour'), from, to - 1, 'asc')];
    const open = forexOpenIntervals(from, to);
    expect(open).toHaveLength(2);
    for (const { bar } of bars) {
      expect(open.some((i) => i.start <= bar.t && bar.t < i.end)).toBe(true);
      expect(bar.n).toBe(240);
    }
    // Friday 00:00-21:00 UTC (EDT close) and Sunday 21:00 UTC to Tuesday.
    expect(bars).toHaveLength(21 + 27);
  });

  it('returns the same bars in descending order, and the bar containing the range end', () => {
    // All history: sparse quotes, market hours only.
    const from = utc('2024-04-01T00:00:00Z');
    const to = utc('2024-04-19T00:00:00Z');
    const window = () => windowFor('XAU/USD', from, to + 86_400_000);
    const asc = [...scanBars(window(), barCalendar(1, 'day'), from, to, 'asc')].map((b) => b.bar);
    const desc = [...scanBars(window(), barCalendar(1, 'day'), from, to, 'desc')].map((b) => b.bar);
    expect(desc.reverse()).toEqual(asc);
    expect(asc.map((b) => new Date(b.t).getUTCDay())).not.toContain(6); // no Saturday bars
    expect(asc.at(-1)!.t).toBe(to);
  });

  it('aligns weeks to Monday 00:00 UTC and months to the calendar', () => {
    const week = barCalendar(1, 'week');
    expect(week.floor(utc('2024-05-09T12:00:00Z'))).toBe(utc('2024-05-06T00:00:00Z'));
    const quarter = barCalendar(1, 'quarter');
    expect(quarter.floor(utc('2024-05-09T12:00:00Z'))).toBe(utc('2024-04-01T00:00:00Z'));
    expect(quarter.next(utc('2024-10-01T00:00:00Z'))).toBe(utc('2025-01-01T00:00:00Z'));
    expect(barCalendar(15, 'minute').floor(utc('2024-05-09T12:44:59.999Z'))).toBe(
      utc('2024-05-09T12:30:00Z'),
    );
  });
});
