// Which bars one aggregator run builds, and how the tick scan is cut into queries.
// Windows are [start, end) in epoch ms, aligned to the timeframe's bar boundaries, and
// hold only closed bars: a bar still in progress is never published (seed lesson 5).
import { TIMEFRAME_MS, barEnd, barStart, isBarStart, type Timeframe } from '../contracts/timeframes.js';

export interface BarWindow {
  timeframe: Timeframe;
  /** Start of the first bar (inclusive). */
  start: number;
  /** End of the last bar (exclusive); equal to start when there is nothing to build. */
  end: number;
}

const DAY_MS = 24 * 3600_000;
// Monday 1970-01-05 00:00 UTC, the origin of weekly bars (contracts/timeframes.ts).
const FIRST_MONDAY_MS = 4 * DAY_MS;

/**
 * The scheduled run's window: the bar that closed last, plus `lookbackBars` earlier bars
 * rebuilt to pick up ticks that reached the database late. end = start of the bar in
 * progress at `nowMs`.
 */
export function scheduledWindow(timeframe: Timeframe, nowMs: number, lookbackBars: number): BarWindow {
  const end = barStart(timeframe, nowMs);
  return { timeframe, start: end - (1 + lookbackBars) * TIMEFRAME_MS[timeframe], end };
}

export interface ExplicitWindow extends BarWindow {
  /** True when `to` lay beyond the last closed bar and the window was cut there. */
  clampedToNow: boolean;
}

/**
 * An explicit re-aggregation of [fromMs, toMs): `from` is aligned down to the start of its
 * bar and `to` up to the end of its bar (unless already on a boundary), so every bar that
 * overlaps the range is rebuilt whole. Bars not yet closed at `nowMs` are left out.
 */
export function explicitWindow(
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  nowMs: number,
): ExplicitWindow {
  const start = barStart(timeframe, fromMs);
  const alignedEnd = isBarStart(timeframe, toMs) ? toMs : barEnd(timeframe, barStart(timeframe, toMs));
  const lastClosedEnd = barStart(timeframe, nowMs);
  const end = Math.max(start, Math.min(alignedEnd, lastClosedEnd));
  return { timeframe, start, end, clampedToNow: alignedEnd > lastClosedEnd };
}

export function barCount(w: BarWindow): number {
  return (w.end - w.start) / TIMEFRAME_MS[w.timeframe];
}

/** One database query: the ticks in [start, end) and the bar windows cut to that range. */
export interface ScanChunk {
  start: number;
  end: number;
  windows: BarWindow[];
}

/**
 * Cuts the windows into chunks of one day (one week when 1w is among them), so that a long
 * backfill never holds more than a chunk's bars in memory or runs one huge query. Chunk
 * boundaries are aligned to every timeframe (days are multiples of 5m…4h, and weekly chunks
 * start on Mondays), so each window cut to a chunk still holds whole bars.
 */
export function scanChunks(windows: readonly BarWindow[]): ScanChunk[] {
  const open = windows.filter((w) => w.end > w.start);
  if (open.length === 0) return [];
  const span = Math.max(DAY_MS, ...open.map((w) => TIMEFRAME_MS[w.timeframe]));
  const origin = open.some((w) => w.timeframe === '1w') ? FIRST_MONDAY_MS : 0;
  const first = Math.min(...open.map((w) => w.start));
  const last = Math.max(...open.map((w) => w.end));
  const chunks: ScanChunk[] = [];
  for (let cell = Math.floor((first - origin) / span) * span + origin; cell < last; cell += span) {
    const cellEnd = cell + span;
    const parts = open
      .map((w) => ({ timeframe: w.timeframe, start: Math.max(w.start, cell), end: Math.min(w.end, cellEnd) }))
      .filter((w) => w.end > w.start);
    if (parts.length === 0) continue;
    chunks.push({
      start: Math.min(...parts.map((p) => p.start)),
      end: Math.max(...parts.map((p) => p.end)),
      windows: parts,
    });
  }
  return chunks;
}
