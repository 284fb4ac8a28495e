// Retention on plain PostgreSQL. Where the timescaledb extension is installed its
// retention policy drops whole chunks and this does nothing. Without it, the bridge (the
// only writer of market_ticks) deletes this tenant's ticks older than
// TIMESCALEDB_RETENTION_DAYS itself: periodically, under a session advisory lock so that
// one replica does it at a time, and in small batches so that no delete holds locks or
// bloats WAL for long (each batch is its own short transaction, using the (tenant_id, time)
// index). Space is reused by autovacuum, not returned to the OS; a deployment with large
// volumes should use TimescaleDB.
import type pg from 'pg';
import type { Logger } from '../runtime/logger.js';

export interface RetentionOptions {
  tenantId: string;
  retentionDays: number;
  batchSize?: number;
  signal?: AbortSignal;
}

export type RetentionOutcome =
  { ran: true; deleted: number } | { ran: false; why: 'timescaledb' | 'another replica holds the lock' };

const DELETE_BATCH = `DELETE FROM market_ticks WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM market_ticks
     WHERE tenant_id = $1 AND time < now() - make_interval(days => $2::int)
     LIMIT $3))`;

export async function deleteExpiredTicks(
  pool: pg.Pool,
  o: RetentionOptions,
  log: Logger,
): Promise<RetentionOutcome> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const ts = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
    if (ts.rowCount) return { ran: false, why: 'timescaledb' };
    const lockKey = `market_ticks_retention:${o.tenantId}`;
    const lock = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [lockKey],
    );
    if (!lock.rows[0]!.locked) return { ran: false, why: 'another replica holds the lock' };
    try {
      const batchSize = o.batchSize ?? 5_000;
      let deleted = 0;
      for (;;) {
        const result = await client.query(DELETE_BATCH, [o.tenantId, o.retentionDays, batchSize]);
        deleted += result.rowCount ?? 0;
        if ((result.rowCount ?? 0) < batchSize || o.signal?.aborted) break;
      }
      if (deleted > 0) log.info({ deleted, retentionDays: o.retentionDays }, 'deleted expired ticks');
      return { ran: true, deleted };
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
