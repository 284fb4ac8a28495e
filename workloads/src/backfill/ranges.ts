// REST ranges: the missing bars of one symbol and timeframe grouped into as few Polygon
// requests as the API allows. Missing bars are joined into one request whenever the whole
// span still fits the per-request bound (maxRequestSpanMs), also across bars that exist:
// on the free plan a request costs 12 s of the rate limit while extra bars in an answer cost
// next to nothing, and the bars that were not missing are simply not published again.
import type { TimeInterval } from '../contracts/market-hours.js';
import { POLYGON_RANGE, barEnd, type Timeframe } from '../contracts/timeframes.js';
import { expectedBarStarts } from './expected-bars.js';
import type { MissingBar } from './gaps.js';

/** Polygon's largest `limit`: base aggregates (minutes below a day, days above) per page. */
export const POLYGON_MAX_LIMIT = 50_000;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Polygon's knowledge base: keep minute and hour requests to about a month. */
const MINUTE_HOUR_REQUEST_SPAN = 31 * DAY;

/**
 * Longest span (first bar start to last bar end) of one request: what one page of
 * POLYGON_MAX_LIMIT base aggregates can hold, and at most a month for minute and hour bars.
 * 5m…4h: 31 days (50,000 minutes would be 34.7); 1d and 1w: 50,000 days (a whole window).
 */
export function maxRequestSpanMs(timeframe: Timeframe): number {
  const { timespan } = POLYGON_RANGE[timeframe];
  return timespan === 'minute' || timespan === 'hour'
    ? Math.min(MINUTE_HOUR_REQUEST_SPAN, POLYGON_MAX_LIMIT * MINUTE)
    : POLYGON_MAX_LIMIT * DAY;
}

/** Consecutive missing bars (consecutive among the expected bars), by first and last start. */
export interface BarRun {
  first: number;
  last: number;
}

export interface RequestRange {
  timeframe: Timeframe;
  /** Start of the first bar (Polygon's `from`). */
  fromMs: number;
  /** Start of the last bar, inclusive (Polygon's `to`). */
  toMs: number;
  /** The missing bars inside, as runs: only returned bars inside a run are published. */
  runs: BarRun[];
  missingBars: number;
}

export class RangePlanner {
  readonly ranges: RequestRange[] = [];
  /** Gaps (runs of consecutive missing bars) and missing bars seen. */
  gaps = 0;
  missingBars = 0;
  private readonly maxSpanMs: number;

  constructor(
    private readonly timeframe: Timeframe,
    maxSpanMs = maxRequestSpanMs(timeframe),
  ) {
    this.maxSpanMs = maxSpanMs;
  }

  /** Adds the next missing bar (in time order). */
  add(bar: MissingBar): void {
    this.missingBars++;
    if (!bar.continuesGap) this.gaps++;
    const current = this.ranges.at(-1);
    if (current && barEnd(this.timeframe, bar.start) - current.fromMs <= this.maxSpanMs) {
      current.toMs = bar.start;
      current.missingBars++;
      const run = current.runs.at(-1)!;
      if (bar.continuesGap) run.last = bar.start;
      else current.runs.push({ first: bar.start, last: bar.start });
      return;
    }
    this.ranges.push({
      timeframe: this.timeframe,
      fromMs: bar.start,
      toMs: bar.start,
      runs: [{ first: bar.start, last: bar.start }],
      missingBars: 1,
    });
  }
}

/** True when `start` lies in one of `runs` (sorted): the bar was missing. */
export function inRuns(runs: readonly BarRun[], start: number): boolean {
  let low = 0;
  let high = runs.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const run = runs[middle]!;
    if (start < run.first) high = middle - 1;
    else if (start > run.last) low = middle + 1;
    else return true;
  }
  return false;
}

/**
 * The missing bars Polygon returned nothing for, as intervals [first start, last end) of
 * consecutive ones: what the ledger of empty ranges records, so they are not asked again.
 */
export function unansweredIntervals(
  timeframe: Timeframe,
  runs: readonly BarRun[],
  returned: ReadonlySet<number>,
): TimeInterval[] {
  const intervals: TimeInterval[] = [];
  for (const run of runs) {
    let open: TimeInterval | undefined;
    for (const start of expectedBarStarts(timeframe, run.first, run.last + 1)) {
      if (returned.has(start)) {
        open = undefined;
      } else if (open) {
        open.end = barEnd(timeframe, start);
      } else {
        open = { start, end: barEnd(timeframe, start) };
        intervals.push(open);
      }
    }
  }
  return intervals;
}
