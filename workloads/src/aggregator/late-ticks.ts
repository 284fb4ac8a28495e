// Late ticks: ticks committed after their bar was built (bridge lag beyond the look-back, a
// replay, a tick that arrives a day late). Each scheduled run of a timeframe reads the ticks
// committed since its own cursor (market_ticks.committed_at, BRIN-indexed), takes the bars
// they fall into that lie before its scheduled window, and builds those again in the same
// run; then it moves its cursor (aggregator_late_cursor). A failed run leaves the cursor, so
// the next one sees the same ticks. However late a tick is (within the ticks' retention), its
// bars are rebuilt by the next run of every timeframe.
import type pg from 'pg';
import { TIMEFRAME_MS, type Timeframe } from '../contracts/timeframes.js';
import type { BarWindow } from './window.js';

/**
 * now() is a transaction's start: a bridge transaction that began before the last run read
 * its cursor but committed after it carries an older committed_at. Reading this far back
 * behind the cursor catches those (bridge transactions last well under a second); a bar seen
 * twice is only built twice (the same content is the same message).
 */
export const CURSOR_OVERLAP_SECONDS = 120;

const WEEK_ORIGIN = '1970-01-05T00:00:00Z';
const EPOCH_ORIGIN = '1970-01-01T00:00:00Z';

const LATE_BARS = `
SELECT DISTINCT (extract(epoch FROM date_bin($4::interval, time, $5::timestamptz)) * 1000)::float8 AS start_ms
  FROM market_ticks
 WHERE tenant_id = $1 AND symbol = ANY($2::text[])
   AND committed_at > $3::timestamptz - make_interval(secs => $7) AND committed_at <= $8::timestamptz
   AND time < $6::timestamptz
 ORDER BY 1`;

export interface LateBars {
  /** Windows of consecutive bars to rebuild, before the scheduled window. */
  windows: BarWindow[];
  /** The commit time read up to: the cursor to save once they are published. */
  upto: Date;
  /** False on a timeframe's first run: there is no cursor yet, so nothing was looked at. */
  hadCursor: boolean;
}

export async function lateBars(
  pool: pg.Pool,
  q: { tenantId: string; symbols: readonly string[]; timeframe: Timeframe; beforeMs: number },
): Promise<LateBars> {
  const { rows: clock } = await pool.query<{ now: Date }>('SELECT now() AS now');
  const upto = clock[0]!.now;
  const { rows: cursor } = await pool.query<{ committed_upto: Date }>(
    'SELECT committed_upto FROM aggregator_late_cursor WHERE tenant_id = $1 AND timeframe = $2',
    [q.tenantId, q.timeframe],
  );
  if (cursor.length === 0) return { windows: [], upto, hadCursor: false };
  const size = TIMEFRAME_MS[q.timeframe];
  const { rows } = await pool.query<{ start_ms: number }>(LATE_BARS, [
    q.tenantId,
    q.symbols,
    cursor[0]!.committed_upto,
    `${size / 1000} seconds`,
    q.timeframe === '1w' ? WEEK_ORIGIN : EPOCH_ORIGIN,
    new Date(q.beforeMs).toISOString(),
    CURSOR_OVERLAP_SECONDS,
    upto,
  ]);
  return {
    windows: joinBars(
      q.timeframe,
      rows.map((r) => r.start_ms),
    ),
    upto,
    hadCursor: true,
  };
}

/** Consecutive bar starts (ascending) joined into windows. */
export function joinBars(timeframe: Timeframe, starts: readonly number[]): BarWindow[] {
  const size = TIMEFRAME_MS[timeframe];
  const windows: BarWindow[] = [];
  for (const start of starts) {
    const last = windows[windows.length - 1];
    if (last && last.end === start) last.end = start + size;
    else windows.push({ timeframe, start, end: start + size });
  }
  return windows;
}

export async function saveCursor(
  pool: pg.Pool,
  tenantId: string,
  timeframe: Timeframe,
  upto: Date,
): Promise<void> {
  await pool.query(
    `INSERT INTO aggregator_late_cursor (tenant_id, timeframe, committed_upto) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, timeframe) DO UPDATE
       SET committed_upto = GREATEST(aggregator_late_cursor.committed_upto, excluded.committed_upto)`,
    [tenantId, timeframe, upto],
  );
}
