// `migrate`: brings both databases to schemas/ and to the configured retention, then
// verifies them. Safe to run any number of times and concurrently (see ledger.ts).
import type { ClickHouseClient } from '@clickhouse/client';
import pg from 'pg';
import type { z } from 'zod';
import type { clickhouseEnv, migrateEnv, retentionEnv, timescaleEnv } from '../contracts/env.js';
import { createClickHouse } from '../db/clickhouse.js';
import type { Logger } from '../runtime/logger.js';
import { ensureClickHouseDatabase, migrateClickHouse, type ClickHouseMigrateResult } from './clickhouse.js';
import { migratePostgres, pgExecutor, type PostgresMigrateResult } from './postgres.js';
import { findSchemasDir, readSchemaFiles } from './schema-files.js';
import { retryUntil } from './wait.js';

export type MigrateConfig = z.infer<typeof timescaleEnv> &
  z.infer<typeof clickhouseEnv> &
  z.infer<typeof retentionEnv> &
  z.infer<typeof migrateEnv>;

export interface MigrateSummary {
  schemasDir: string;
  postgres: PostgresMigrateResult;
  clickhouse: ClickHouseMigrateResult;
}

export async function runMigrate(config: MigrateConfig, log: Logger): Promise<MigrateSummary> {
  const schemasDir = findSchemasDir(config.SCHEMAS_DIR);
  const waitMs = config.MIGRATE_WAIT_SECONDS * 1000;
  const postgres = await migratePostgresServer(config, schemasDir, waitMs, log);
  const clickhouse = await migrateClickHouseServer(config, schemasDir, waitMs, log);
  return { schemasDir, postgres, clickhouse };
}

async function migratePostgresServer(config: MigrateConfig, schemasDir: string, waitMs: number, log: Logger) {
  const where = `PostgreSQL ${config.TIMESCALEDB_HOST}:${config.TIMESCALEDB_PORT}/${config.TIMESCALEDB_DATABASE}`;
  const client = await retryUntil(
    where,
    async () => {
      // A client of its own rather than the pool: DDL such as create_hypertable on a
      // large table may run longer than the pool's statement timeout.
      const c = new pg.Client({
        host: config.TIMESCALEDB_HOST,
        port: config.TIMESCALEDB_PORT,
        database: config.TIMESCALEDB_DATABASE,
        user: config.TIMESCALEDB_USER,
        password: config.TIMESCALEDB_PASSWORD,
        application_name: 'market-pipeline-migrate',
        connectionTimeoutMillis: 5_000,
      });
      c.on('error', () => undefined); // reported by the failing query instead
      try {
        await c.connect();
        return c;
      } catch (error) {
        await c.end().catch(() => undefined);
        throw error;
      }
    },
    waitMs,
    log,
  );
  try {
    return await migratePostgres(
      pgExecutor(client),
      readSchemaFiles(schemasDir, 'timescaledb'),
      {
        retentionDays: config.TIMESCALEDB_RETENTION_DAYS,
        compressAfterDays: config.TIMESCALEDB_COMPRESS_AFTER_DAYS,
      },
      log,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function migrateClickHouseServer(
  config: MigrateConfig,
  schemasDir: string,
  waitMs: number,
  log: Logger,
): Promise<ClickHouseMigrateResult> {
  const where = `ClickHouse ${config.CLICKHOUSE_HOST}:${config.CLICKHOUSE_PORT}`;
  // The target database may not exist yet: create it through `default`.
  const admin = createClickHouse({ ...config, CLICKHOUSE_DATABASE: 'default' }, 'market-pipeline-migrate');
  let databaseCreated: boolean;
  try {
    await retryUntil(where, () => pingClickHouse(admin), waitMs, log);
    databaseCreated = await ensureClickHouseDatabase(admin, config.CLICKHOUSE_DATABASE);
  } finally {
    await admin.close();
  }
  const ch = createClickHouse(config, 'market-pipeline-migrate');
  try {
    const result = await migrateClickHouse(
      ch,
      readSchemaFiles(schemasDir, 'clickhouse'),
      { aggregatesDays: config.CLICKHOUSE_RETENTION_DAYS, ticksDays: config.CLICKHOUSE_TICKS_RETENTION_DAYS },
      log,
    );
    return { databaseCreated, ...result };
  } finally {
    await ch.close();
  }
}

export async function pingClickHouse(ch: ClickHouseClient): Promise<void> {
  const ping = await ch.ping();
  if (!ping.success) throw ping.error;
}
