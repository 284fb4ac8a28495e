// Forex market hours: Sunday 17:00 to Friday 17:00 America/New_York (Polygon's knowledge
// base; polygon-forex.md §4). Derived from the tz rules through Intl so that the UTC hours
// follow daylight saving time (22:00 UTC in winter, 21:00 UTC in summer) without any
// hard-coded offset. Holidays (Christmas, New Year) are not modelled: the provider
// publishes no forex holiday calendar, so a quiet holiday is left to the gap logic.

const NEW_YORK = 'America/New_York';
/** Local New York hour at which the week opens (Sunday) and closes (Friday). */
const OPEN_CLOSE_HOUR = 17;
const SUNDAY = 0;
const FRIDAY = 5;
const SATURDAY = 6;

export interface TimeInterval {
  /** Inclusive, Unix ms. */
  start: number;
  /** Exclusive, Unix ms. */
  end: number;
}

const newYorkClock = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** New York wall-clock time at `utcMs`, expressed as if it were a UTC timestamp. */
function newYorkWallClock(utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const part of newYorkClock.formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wholeSeconds = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return wholeSeconds + (((utcMs % 1000) + 1000) % 1000);
}

/**
 * UTC instant of a New York wall-clock time. Two passes settle the offset on either side
 * of a DST change; 17:00 never falls into the 02:00 gap or overlap, so it is unambiguous.
 */
function newYorkToUtc(year: number, monthIndex: number, day: number, hour: number): number {
  const wall = Date.UTC(year, monthIndex, day, hour);
  let utc = wall - (newYorkWallClock(wall) - wall);
  utc = wall - (newYorkWallClock(utc) - utc);
  return utc;
}

/** True while the forex market is open (Sunday 17:00 ≤ New York time < Friday 17:00). */
export function isForexOpen(utcMs: number): boolean {
  const local = new Date(newYorkWallClock(utcMs));
  const weekday = local.getUTCDay();
  if (weekday === SATURDAY) return false;
  if (weekday === SUNDAY) return local.getUTCHours() >= OPEN_CLOSE_HOUR;
  if (weekday === FRIDAY) return local.getUTCHours() < OPEN_CLOSE_HOUR;
  return true;
}

/** The trading weeks that overlap [fromMs, toMs), clipped to it, in time order. */
export function forexOpenIntervals(fromMs: number, toMs: number): TimeInterval[] {
  const intervals: TimeInterval[] = [];
  if (!(fromMs < toMs)) return intervals;
  // Start at the New York Sunday on or before `fromMs`: its week may still be open.
  const local = new Date(newYorkWallClock(fromMs));
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth();
  let sunday = local.getUTCDate() - local.getUTCDay();
  for (;;) {
    const open = newYorkToUtc(year, month, sunday, OPEN_CLOSE_HOUR);
    if (open >= toMs) break;
    const close = newYorkToUtc(year, month, sunday + (FRIDAY - SUNDAY), OPEN_CLOSE_HOUR);
    const start = Math.max(open, fromMs);
    const end = Math.min(close, toMs);
    if (start < end) intervals.push({ start, end });
    sunday += 7;
  }
  return intervals;
}
