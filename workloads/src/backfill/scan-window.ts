// Which bars a run checks for one symbol and timeframe. Only bars that ended at least
// BACKFILL_SETTLE_MINUTES ago. Explicit --from/--to: that span. Otherwise the ledger's
// coverage decides (ledger.ts, backfill_coverage): a first run (no coverage, or coverage
// not reaching back to the start of BACKFILL_WINDOW_DAYS, e.g. a new symbol or a longer
// window) checks the whole window; later runs the last BACKFILL_RECENT_DAYS, or back to
// where the last completed run stopped if that is older (a suspended CronJob loses nothing).
import type { TimeInterval } from '../contracts/market-hours.js';
import { barStart, type Timeframe } from '../contracts/timeframes.js';
import { alignUp } from './expected-bars.js';
import type { Coverage } from './ledger.js';

const DAY = 86_400_000;

export interface WindowSettings {
  windowDays: number;
  recentDays: number;
  settleMs: number;
}

export interface ExplicitWindow {
  fromMs: number;
  toMs?: number;
}

export interface ScanWindow extends TimeInterval {
  /** start/end: bounds of bar starts, [start, end). */
  firstRun: boolean;
  explicit: boolean;
}

export function scanWindow(
  timeframe: Timeframe,
  nowMs: number,
  settings: WindowSettings,
  coverage: Coverage | undefined,
  explicit?: ExplicitWindow,
): ScanWindow {
  // A bar starting before barStart(cutoff) has ended by the cutoff.
  const settled = barStart(timeframe, nowMs - settings.settleMs);
  if (explicit) {
    const end = Math.min(settled, explicit.toMs === undefined ? settled : alignUp(timeframe, explicit.toMs));
    return { start: barStart(timeframe, explicit.fromMs), end, firstRun: false, explicit: true };
  }
  const windowStart = barStart(timeframe, nowMs - settings.windowDays * DAY);
  if (!coverage || coverage.start > windowStart) {
    return { start: windowStart, end: settled, firstRun: true, explicit: false };
  }
  const recentStart = barStart(timeframe, nowMs - Math.min(settings.recentDays, settings.windowDays) * DAY);
  return {
    start: Math.max(windowStart, Math.min(recentStart, coverage.end)),
    end: settled,
    firstRun: false,
    explicit: false,
  };
}

/** Coverage after a completed default-window run: the old one joined with what was checked. */
export function extendCoverage(coverage: Coverage | undefined, checked: TimeInterval): Coverage {
  if (!coverage || coverage.end < checked.start || checked.end < coverage.start) {
    return { start: checked.start, end: checked.end };
  }
  return { start: Math.min(coverage.start, checked.start), end: Math.max(coverage.end, checked.end) };
}
