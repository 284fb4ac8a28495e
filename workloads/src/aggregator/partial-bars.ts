// Bars published partial are built again by every scheduled run of their timeframe until they
// come out complete (schemas/timescaledb/004_feed_coverage.sql aggregator_partial_bars): a bar
// can be partial only because the coverage markers or the bridge's watermark were behind when
// it was built, with every tick already committed, and then no late tick would ever bring it
// back. Bars whose window really was not covered stay partial (the gap filler replaces them);
// after RETRY_HOURS they are no longer retried (a lagging bridge has caught up long before; a
// window that really was not covered never becomes complete).
import type pg from 'pg';
import type { Timeframe } from '../contracts/timeframes.js';
import { joinBars } from './late-ticks.js';
import type { BarWindow } from './window.js';

export const RETRY_HOURS = 24;

/** Windows of the partial bars of `timeframe` that start before `beforeMs`, to build again. */
export async function partialBarWindows(
  pool: pg.Pool,
  tenantId: string,
  timeframe: Timeframe,
  beforeMs: number,
): Promise<BarWindow[]> {
  const { rows } = await pool.query<{ start_ms: number }>(
    `SELECT start_ms::float8 AS start_ms FROM aggregator_partial_bars
      WHERE tenant_id = $1 AND timeframe = $2 AND start_ms < $3
        AND built_at > now() - make_interval(hours => $4)
      ORDER BY start_ms`,
    [tenantId, timeframe, beforeMs, RETRY_HOURS],
  );
  return joinBars(
    timeframe,
    rows.map((r) => r.start_ms),
  );
}

/**
 * After a run: the bars of `built` windows that came out partial are recorded, the others
 * forgotten (built complete, or without ticks at all).
 */
export async function recordPartialBars(
  pool: pg.Pool,
  tenantId: string,
  built: readonly BarWindow[],
  partial: ReadonlyArray<{ timeframe: Timeframe; startMs: number }>,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const w of built) {
      await client.query(
        `DELETE FROM aggregator_partial_bars
          WHERE tenant_id = $1 AND timeframe = $2 AND start_ms >= $3 AND start_ms < $4`,
        [tenantId, w.timeframe, w.start, w.end],
      );
    }
    if (partial.length > 0) {
      await client.query(
        `INSERT INTO aggregator_partial_bars (tenant_id, timeframe, start_ms)
         SELECT $1, tf, s FROM unnest($2::text[], $3::bigint[]) AS p(tf, s)
         ON CONFLICT (tenant_id, timeframe, start_ms) DO UPDATE SET built_at = now()`,
        [tenantId, partial.map((p) => p.timeframe), partial.map((p) => p.startMs)],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
