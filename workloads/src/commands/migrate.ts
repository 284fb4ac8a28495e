// `market-pipeline migrate`: applies schemas/ to PostgreSQL/TimescaleDB and ClickHouse,
// reconciles retention, verifies the live schema. Exit 0 with a summary, 1 with the reason.
import { clickhouseEnv, migrateEnv, opsEnv, retentionEnv, timescaleEnv } from '../contracts/env.js';
import { runMigrate } from '../migrate/migrate.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { SchemaDriftError } from '../migrate/ledger.js';
import { createLogger } from '../runtime/logger.js';

const migrateConfig = timescaleEnv
  .extend(clickhouseEnv.shape)
  .extend(retentionEnv.shape)
  .extend(migrateEnv.shape)
  .extend({ LOG_LEVEL: opsEnv.shape.LOG_LEVEL });

export async function run(args: string[]): Promise<number> {
  const log = createLogger('migrate');
  if (args.length > 0) {
    log.error({ args }, 'migrate takes no arguments; it is configured by environment variables');
    return 2;
  }
  try {
    const config = loadConfig(migrateConfig);
    log.level = config.LOG_LEVEL;
    const summary = await runMigrate(config, log);
    log.info(
      {
        schemasDir: summary.schemasDir,
        postgres: {
          applied: summary.postgres.applied.map((a) => a.file),
          skipped: summary.postgres.skipped,
          timescaledb: summary.postgres.timescaledb,
          reconciled: summary.postgres.reconciled,
        },
        clickhouse: {
          databaseCreated: summary.clickhouse.databaseCreated,
          applied: summary.clickhouse.applied.map((a) => a.file),
          skipped: summary.clickhouse.skipped,
          reconciled: summary.clickhouse.reconciled,
        },
      },
      'migrate done: schemas applied and verified',
    );
    return 0;
  } catch (error) {
    // Expected failures speak for themselves; anything else also gets its stack.
    const expected = error instanceof ConfigError || error instanceof SchemaDriftError;
    log.error(expected ? {} : { err: error }, `migrate failed: ${(error as Error).message}`);
    return 1;
  }
}
