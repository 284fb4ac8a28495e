// PostgreSQL/TimescaleDB connection pool from the TIMESCALEDB_* settings.
import pg from 'pg';
import type { z } from 'zod';
import type { timescaleEnv } from '../contracts/env.js';

export type TimescaleSettings = z.infer<typeof timescaleEnv>;

export function createPgPool(s: TimescaleSettings, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    host: s.TIMESCALEDB_HOST,
    port: s.TIMESCALEDB_PORT,
    database: s.TIMESCALEDB_DATABASE,
    user: s.TIMESCALEDB_USER,
    password: s.TIMESCALEDB_PASSWORD,
    max: s.TIMESCALEDB_POOL_SIZE,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
    // A statement that hangs (a lock, a dead server behind a proxy) fails instead of
    // holding a batch forever; the caller retries with backoff.
    statement_timeout: 60_000,
    query_timeout: 65_000,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
