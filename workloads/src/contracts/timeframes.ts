// The seven bar timeframes, their UTC alignment and the aggregator schedule.
// A bar is labelled by its start and covers [start, end): a tick exactly on a boundary
// belongs to the later bar.
import { z } from 'zod';

export const TIMEFRAMES = ['5m', '15m', '30m', '1h', '4h', '1d', '1w'] as const;
export const timeframeSchema = z.enum(TIMEFRAMES);
export type Timeframe = z.infer<typeof timeframeSchema>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '4h': 4 * HOUR,
  '1d': DAY,
  '1w': 7 * DAY,
};

/** Seed schedule of the aggregator CronJobs (UTC). */
export const TIMEFRAME_SCHEDULE: Readonly<Record<Timeframe, string>> = {
  '5m': '*/5 * * * *',
  '15m': '*/15 * * * *',
  '30m': '*/30 * * * *',
  '1h': '0 * * * *',
  '4h': '0 */4 * * *',
  '1d': '0 0 * * *',
  '1w': '0 0 * * 1',
};

/** Polygon REST `multiplier/timespan` for each timeframe. */
export const POLYGON_RANGE: Readonly<
  Record<Timeframe, { multiplier: number; timespan: 'minute' | 'hour' | 'day' | 'week' }>
> = {
  '5m': { multiplier: 5, timespan: 'minute' },
  '15m': { multiplier: 15, timespan: 'minute' },
  '30m': { multiplier: 30, timespan: 'minute' },
  '1h': { multiplier: 1, timespan: 'hour' },
  '4h': { multiplier: 4, timespan: 'hour' },
  '1d': { multiplier: 1, timespan: 'day' },
  '1w': { multiplier: 1, timespan: 'week' },
};

// The Unix epoch (1970-01-01) was a Thursday; Monday 1970-01-05 00:00 UTC anchors weeks.
const FIRST_MONDAY_MS = 4 * DAY;

/** Start (ms) of the bar of `timeframe` that contains `timeMs`. */
export function barStart(timeframe: Timeframe, timeMs: number): number {
  const size = TIMEFRAME_MS[timeframe];
  const origin = timeframe === '1w' ? FIRST_MONDAY_MS : 0;
  return Math.floor((timeMs - origin) / size) * size + origin;
}

/** End (ms, exclusive) of the bar that starts at `startMs`. */
export function barEnd(timeframe: Timeframe, startMs: number): number {
  return startMs + TIMEFRAME_MS[timeframe];
}

export function isBarStart(timeframe: Timeframe, timeMs: number): boolean {
  return barStart(timeframe, timeMs) === timeMs;
}
