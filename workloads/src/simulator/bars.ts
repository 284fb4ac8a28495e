// Polygon aggregate bars built from the simulator's quotes. Bars are labelled by their
// start and cover [start, next start), in UTC: fixed-size spans are aligned to the Unix
// epoch (minutes, hours, days at 00:00 UTC), weeks to Monday 00:00 UTC (the pipeline's 1w
// timeframe; Polygon does not document its forex week anchor), months, quarters and years
// to calendar boundaries. Values follow the pipeline's live bars: o/h/l/c over the quote
// mids, n = v = number of quotes, vw = mean mid.
import type { QuoteWindow } from './quote-timeline.js';

export const TIMESPANS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type Timespan = (typeof TIMESPANS)[number];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 1970-01-05, the first Monday of the epoch. */
const FIRST_MONDAY = 4 * DAY;

export interface BarCalendar {
  /** Start of the bar containing `t`. */
  floor(t: number): number;
  /** Start of the bar after the one starting at `start`. */
  next(start: number): number;
  /**
   * Size of Polygon's base aggregate (what `limit` counts): seconds for second bars,
   * minutes for minute and hour bars, days for anything longer.
   */
  baseMs: number;
}

function fixedCalendar(sizeMs: number, originMs: number, baseMs: number): BarCalendar {
  return {
    floor: (t) => Math.floor((t - originMs) / sizeMs) * sizeMs + originMs,
    next: (start) => start + sizeMs,
    baseMs,
  };
}

function monthCalendar(monthsPerBar: number): BarCalendar {
  const monthIndex = (t: number) => {
    const d = new Date(t);
    return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
  };
  return {
    floor: (t) => Date.UTC(1970, Math.floor(monthIndex(t) / monthsPerBar) * monthsPerBar),
    next: (start) => Date.UTC(1970, monthIndex(start) + monthsPerBar),
    baseMs: DAY,
  };
}

export function barCalendar(multiplier: number, timespan: Timespan): BarCalendar {
  switch (timespan) {
    case 'second':
      return fixedCalendar(multiplier * SECOND, 0, SECOND);
    case 'minute':
      return fixedCalendar(multiplier * MINUTE, 0, MINUTE);
    case 'hour':
      return fixedCalendar(multiplier * HOUR, 0, MINUTE);
    case 'day':
      return fixedCalendar(multiplier * DAY, 0, DAY);
    case 'week':
      return fixedCalendar(multiplier * 7 * DAY, FIRST_MONDAY, DAY);
    case 'month':
      return monthCalendar(multiplier);
    case 'quarter':
      return monthCalendar(3 * multiplier);
    case 'year':
      return monthCalendar(12 * multiplier);
  }
}

/** One result row, in the field order of Polygon's responses. */
export interface AggregateBar {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw: number;
  n: number;
  t: number;
}

export interface ScannedBar {
  bar: AggregateBar;
  /** Base aggregates (minutes/seconds/days with quotes) the bar is made of. */
  baseCount: number;
}

// Local alias for the per-quote loop: see counter-random.ts.
const { floor } = Math;

/** Aggregates the quotes of [start, end). Undefined when the window has none. */
export function aggregateBar(
  window: QuoteWindow,
  start: number,
  end: number,
  baseMs: number,
): ScannedBar | undefined {
  let n = 0;
  let o = 0;
  let h = -Infinity;
  let l = Infinity;
  let c = 0;
  let sum = 0;
  let baseCount = 0;
  let lastBase = Number.NaN;
  window.forEachQuote(start, end, (quote) => {
    const mid = (quote.bid + quote.ask) / 2;
    if (n === 0) o = mid;
    if (mid > h) h = mid;
    if (mid < l) l = mid;
    c = mid;
    sum += mid;
    n++;
    const base = floor(quote.t / baseMs);
    if (base !== lastBase) {
      baseCount++;
      lastBase = base;
    }
  });
  if (n === 0) return undefined;
  const vwScale = 10 ** (window.generator.profile.decimals + 2);
  return { bar: { o, h, l, c, v: n, vw: Math.round((sum / n) * vwScale) / vwScale, n, t: start }, baseCount };
}

/**
 * Bars whose start lies in [fromMs, toMs] (both inclusive, as Polygon's range), skipping
 * windows without quotes, in ascending or descending order. Lazy: the caller stops
 * pulling when its page is full, so a huge range costs only what is returned.
 */
export function* scanBars(
  window: QuoteWindow,
  calendar: BarCalendar,
  fromMs: number,
  toMs: number,
  order: 'asc' | 'desc',
): Generator<ScannedBar> {
  if (order === 'asc') {
    let cursor = fromMs;
    for (;;) {
      const quoteTime = window.nextQuoteTime(cursor);
      if (quoteTime === undefined) return;
      const start = calendar.floor(quoteTime);
      // A bar that began before `fromMs` is not in the range; its quotes are skipped.
      if (start < fromMs) {
        cursor = calendar.next(start);
        continue;
      }
      if (start > toMs) return;
      const end = calendar.next(start);
      const scanned = aggregateBar(window, start, end, calendar.baseMs);
      if (scanned) yield scanned;
      cursor = end;
    }
  } else {
    // Start from the end of the bar containing `toMs`: that bar is in the range even when
    // all of its quotes come after `toMs`.
    let cursor = calendar.next(calendar.floor(toMs)) - 1;
    for (;;) {
      const quoteTime = window.previousQuoteTime(cursor);
      if (quoteTime === undefined) return;
      const start = calendar.floor(quoteTime);
      if (start < fromMs) return;
      // The last bar may extend past `toMs`; aggregate the whole of it.
      const scanned = aggregateBar(window, start, calendar.next(start), calendar.baseMs);
      if (scanned) yield scanned;
      cursor = start - 1;
    }
  }
}
