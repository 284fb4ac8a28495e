// Which bars the pipeline should have: every bar of a timeframe that overlaps forex trading
// hours (contracts/market-hours.ts: Sunday 17:00 to Friday 17:00 New York). A bar entirely
// inside a weekend is never expected, so a weekend is never a gap; a bar that straddles the
// open or the close (a 4h bar from 20:00 UTC on a winter Sunday, the Friday 1d bar) is.
import { forexOpenIntervals } from '../contracts/market-hours.js';
import { barEnd, barStart, type Timeframe } from '../contracts/timeframes.js';

/** Starts (ascending, ms) of the expected bars of `timeframe` whose start is in [fromMs, toMs). */
export function* expectedBarStarts(timeframe: Timeframe, fromMs: number, toMs: number): Generator<number> {
  const first = alignUp(timeframe, fromMs);
  if (!(first < toMs)) return;
  // Open intervals clipped to the span of these bars: a bar overlaps an open interval
  // exactly when it overlaps the clipped part (even when that part starts after toMs).
  const scanEnd = barEnd(timeframe, barStart(timeframe, toMs - 1));
  let previous = -Infinity;
  for (const open of forexOpenIntervals(first, scanEnd)) {
    for (let start = barStart(timeframe, open.start); start < open.end && start < toMs;) {
      // A weekly bar overlaps two trading weeks (Monday to Friday, then the Sunday open).
      if (start > previous) {
        yield start;
        previous = start;
      }
      start = barEnd(timeframe, start);
    }
  }
}

/** Start of the first bar of `timeframe` that starts at or after `ms`. */
export function alignUp(timeframe: Timeframe, ms: number): number {
  const start = barStart(timeframe, ms);
  return start === ms ? ms : barEnd(timeframe, start);
}
