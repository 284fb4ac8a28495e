// Retention, run by the bridge periodically under a session advisory lock so that one
// replica does it at a time.
//
// Ticks on plain PostgreSQL: where the timescaledb extension is installed its retention
// policy drops whole chunks and the ticks are left to it. Without it, the bridge (the only
// writer of market_ticks) deletes this tenant's ticks older than TIMESCALEDB_RETENTION_DAYS
// itself, in small batches so that no delete holds locks or bloats WAL for long (each batch
// is its own short transaction, using the (tenant_id, time) index). Space is reused by
// autovacuum, not returned to the OS; a deployment with large volumes should use TimescaleDB.
//
// Coverage bookkeeping, always (TimescaleDB or not: these are plain tables): the
// `feed_coverage` rows (about 1440 a day per collector) and `aggregator_partial_bars` rows
// older than the ticks' retention. Nothing reads them any more: a bar of that time can no
// longer be built (its ticks are gone), and the gap filler decides from ClickHouse's bars,
// not from feed_coverage. A row is old when its time (to_ms, start_ms) is.
import type pg from 'pg';
import type { Logger } from '../runtime/logger.js';

export interface RetentionOptions {
  tenantId: string;
  retentionDays: number;
  batchSize?: number;
  signal?: AbortSignal;
}

export type RetentionOutcome =
  | {
      ran: true;
      /** Ticks deleted; 0 where TimescaleDB's policy does it (`ticks: 'timescaledb'`). */
      deleted: number;
      ticks: 'deleted' | 'timescaledb';
      /** Coverage bookkeeping rows deleted. */
      pruned: { coverage: number; partialBars: number };
    }
  | { ran: false; why: 'another replica holds the lock' };

const DELETE_BATCH = `DELETE FROM market_ticks WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM market_ticks
     WHERE tenant_id = $1 AND time < now() - make_interval(days => $2::int)
     LIMIT $3))`;

/** The retention's cutoff in epoch ms, on the database's clock (as the ticks' `now()`). */
const CUTOFF_MS = `(extract(epoch FROM now() - make_interval(days => $2::int)) * 1000)::bigint`;
const PRUNE_COVERAGE = `DELETE FROM feed_coverage WHERE tenant_id = $1 AND to_ms < ${CUTOFF_MS}`;
const PRUNE_PARTIAL_BARS = `DELETE FROM aggregator_partial_bars WHERE tenant_id = $1 AND start_ms < ${CUTOFF_MS}`;

export async function deleteExpiredTicks(
  pool: pg.Pool,
  o: RetentionOptions,
  log: Logger,
): Promise<RetentionOutcome> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const lockKey = `market_ticks_retention:${o.tenantId}`;
    const lock = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [lockKey],
    );
    if (!lock.rows[0]!.locked) return { ran: false, why: 'another replica holds the lock' };
    try {
      const pruned = {
        coverage: (await client.query(PRUNE_COVERAGE, [o.tenantId, o.retentionDays])).rowCount ?? 0,
        partialBars: (await client.query(PRUNE_PARTIAL_BARS, [o.tenantId, o.retentionDays])).rowCount ?? 0,
      };
      if (pruned.coverage + pruned.partialBars > 0)
        log.info({ ...pruned, retentionDays: o.retentionDays }, 'deleted expired coverage rows');
      const ts = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
      if (ts.rowCount) return { ran: true, deleted: 0, ticks: 'timescaledb', pruned };
      const batchSize = o.batchSize ?? 5_000;
      let deleted = 0;
      for (;;) {
        const result = await client.query(DELETE_BATCH, [o.tenantId, o.retentionDays, batchSize]);
        deleted += result.rowCount ?? 0;
        if ((result.rowCount ?? 0) < batchSize || o.signal?.aborted) break;
      }
      if (deleted > 0) log.info({ deleted, retentionDays: o.retentionDays }, 'deleted expired ticks');
      return { ran: true, deleted, ticks: 'deleted', pruned };
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    // A connection that failed is discarded (its session, and so its lock, ends with it).
    client.release(broken);
  }
}
