// `migrate` against the real PostgreSQL and ClickHouse test servers, in databases of this
// test file's own: applies the real schema files, is idempotent, reconciles the TTL,
// reports drift by name, and the built CLI exits 0 / non-zero accordingly.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { ensureBuilt, runCli } from '../../../test/support/built-cli.js';
import { loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { clickhouseEnv, migrateEnv, retentionEnv, timescaleEnv } from '../contracts/env.js';
import { SchemaDriftError } from './ledger.js';
import { runMigrate, type MigrateConfig } from './migrate.js';
import { findSchemasDir, readSchemaFiles } from './schema-files.js';

// jest.config.js sets testTimeout inside the integration project, where Jest ignores it.
jest.setTimeout(120_000);

const log = createLogger('test', 'silent');
const schema = timescaleEnv.extend(clickhouseEnv.shape).extend(retentionEnv.shape).extend(migrateEnv.shape);
const pgFiles = readSchemaFiles(findSchemasDir(), 'timescaledb').map((f) => f.name);
const chFiles = readSchemaFiles(findSchemasDir(), 'clickhouse').map((f) => f.name);

describe('migrate', () => {
  let dbs: TestDatabases;
  const config = (extra: Record<string, string> = {}): MigrateConfig =>
    loadConfig(schema, { ...dbs.env, MIGRATE_WAIT_SECONDS: '5', ...extra });
  const engineFull = async () => {
    const rs = await dbs.ch.query({
      query:
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'aggregates'",
      format: 'JSONEachRow',
    });
    return (await rs.json<{ engine_full: string }>())[0]!.engine_full;
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    await ensureBuilt();
  }, 120_000);

  afterAll(async () => {
    await dbs?.drop();
  });

  it('creates the ClickHouse database, applies every schema file and records it', async () => {
    const summary = await runMigrate(config(), log);
    expect(summary.postgres).toMatchObject({ skipped: [], timescaledb: false, reconciled: [] });
    expect(summary.postgres.applied.map((a) => a.file)).toEqual(pgFiles);
    expect(summary.clickhouse).toMatchObject({ databaseCreated: true, skipped: [], reconciled: [] });
    expect(summary.clickhouse.applied.map((a) => a.file)).toEqual(chFiles);

    const pgLedger = await dbs.pg.query('SELECT file FROM schema_migrations ORDER BY file');
    expect(pgLedger.rows.map((r) => r.file)).toEqual(pgFiles);
    const chLedger = await dbs.ch.query({
      query: 'SELECT file FROM schema_migrations ORDER BY file',
      format: 'JSONEachRow',
    });
    expect((await chLedger.json<{ file: string }>()).map((r) => r.file)).toEqual(chFiles);
    expect(await engineFull()).toContain('TTL toDateTime(timestamp) + toIntervalDay(3650)');
  });

  it('is idempotent: a second run skips every file and changes nothing', async () => {
    const summary = await runMigrate(config(), log);
    expect(summary.postgres).toMatchObject({ applied: [], skipped: pgFiles, reconciled: [] });
    expect(summary.clickhouse).toMatchObject({
      databaseCreated: false,
      applied: [],
      skipped: chFiles,
      reconciled: [],
    });
    const ledger = await dbs.pg.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(ledger.rows[0].n).toBe(pgFiles.length);
    const chLedger = await dbs.ch.query({
      query: 'SELECT count() AS n FROM schema_migrations',
      format: 'JSONEachRow',
    });
    expect(Number((await chLedger.json<{ n: string }>())[0]!.n)).toBe(chFiles.length);
  });

  it('re-applies a file whose checksum changed and records the new application', async () => {
    await dbs.pg.query("UPDATE schema_migrations SET sha256 = 'an earlier version' WHERE file = $1", [
      pgFiles[0],
    ]);
    const summary = await runMigrate(config(), log);
    expect(summary.postgres.applied).toEqual([expect.objectContaining({ file: pgFiles[0], changed: true })]);
    const rows = await dbs.pg.query(
      'SELECT sha256 FROM schema_migrations WHERE file = $1 ORDER BY applied_at',
      [pgFiles[0]],
    );
    expect(rows.rows.map((r) => r.sha256)).toEqual([
      'an earlier version',
      summary.postgres.applied[0]!.sha256,
    ]);
  });

  it('reconciles the TTL of aggregates to CLICKHOUSE_RETENTION_DAYS, also after a hand edit', async () => {
    const summary = await runMigrate(config({ CLICKHOUSE_RETENTION_DAYS: '730' }), log);
    expect(summary.clickhouse.reconciled).toEqual(['aggregates TTL: 3650 -> 730 days']);
    expect(await engineFull()).toContain('TTL toDateTime(timestamp) + toIntervalDay(730)');

    await dbs.ch.command({
      query: 'ALTER TABLE aggregates MODIFY TTL toDateTime(timestamp) + INTERVAL 2 DAY',
    });
    const back = await runMigrate(config({ CLICKHOUSE_RETENTION_DAYS: '730' }), log);
    expect(back.clickhouse.reconciled).toEqual(['aggregates TTL: 2 -> 730 days']);
  });

  it('creates the long-term tick store with its codecs and reconciles its TTL to CLICKHOUSE_TICKS_RETENTION_DAYS', async () => {
    const ticksTable = async () => {
      const rs = await dbs.ch.query({
        query: `SELECT engine_full, sorting_key FROM system.tables
                 WHERE database = currentDatabase() AND name = 'ticks'`,
        format: 'JSONEachRow',
      });
      return (await rs.json<{ engine_full: string; sorting_key: string }>())[0]!;
    };
    const before = await ticksTable();
    expect(before.engine_full).toMatch(/^ReplacingMergeTree /);
    expect(before.engine_full).toContain('TTL toDateTime(timestamp) + toIntervalDay(3650)');
    expect(before.sorting_key).toBe('tenant_id, symbol, timestamp, bid, ask, exchange');
    const codecs = await dbs.ch.query({
      query: `SELECT name, compression_codec FROM system.columns
               WHERE database = currentDatabase() AND table = 'ticks' AND name IN ('timestamp', 'bid')
               ORDER BY name`,
      format: 'JSONEachRow',
    });
    expect(await codecs.json()).toEqual([
      { name: 'bid', compression_codec: 'CODEC(ZSTD(1))' },
      { name: 'timestamp', compression_codec: 'CODEC(Delta(8), ZSTD(1))' },
    ]);

    // (aggregates kept at the 730 days the previous test left: only the ticks TTL changes)
    const summary = await runMigrate(
      config({ CLICKHOUSE_RETENTION_DAYS: '730', CLICKHOUSE_TICKS_RETENTION_DAYS: '1825' }),
      log,
    );
    expect(summary.clickhouse.reconciled).toEqual(['ticks TTL: 3650 -> 1825 days']);
    expect((await ticksTable()).engine_full).toContain('TTL toDateTime(timestamp) + toIntervalDay(1825)');
    const back = await runMigrate(config({ CLICKHOUSE_RETENTION_DAYS: '730' }), log);
    expect(back.clickhouse.reconciled).toEqual(['ticks TTL: 1825 -> 3650 days']);
  });

  it('reports a ticks table keyed without the quote identity as drift', async () => {
    await dbs.ch.command({ query: 'RENAME TABLE ticks TO ticks_saved' });
    await dbs.ch.command({
      query: `CREATE TABLE ticks AS ticks_saved ENGINE = ReplacingMergeTree
              ORDER BY (tenant_id, symbol, timestamp) TTL toDateTime(timestamp) + INTERVAL 3650 DAY`,
    });
    try {
      await expect(runMigrate(config(), log)).rejects.toThrow(
        'ticks sorting key is (tenant_id, symbol, timestamp), expected (tenant_id, symbol, timestamp, bid, ask, exchange)',
      );
    } finally {
      await dbs.ch.command({ query: 'DROP TABLE ticks' });
      await dbs.ch.command({ query: 'RENAME TABLE ticks_saved TO ticks' });
    }
  });

  it('reports a TTL on another column as drift, naming it', async () => {
    await dbs.ch.command({
      query: 'ALTER TABLE aggregates MODIFY TTL toDateTime(ingested_at) + INTERVAL 730 DAY',
    });
    const run = runMigrate(config({ CLICKHOUSE_RETENTION_DAYS: '730' }), log);
    await expect(run).rejects.toBeInstanceOf(SchemaDriftError);
    await expect(run).rejects.toThrow(
      'aggregates TTL is toDateTime(ingested_at) + toIntervalDay(730), expected toDateTime(timestamp) + toIntervalDay(730)',
    );
    await dbs.ch.command({
      query: 'ALTER TABLE aggregates MODIFY TTL toDateTime(timestamp) + INTERVAL 3650 DAY',
    });
  });

  it('reports a hand-changed engine and a narrower unique key as drift', async () => {
    await dbs.ch.command({ query: 'RENAME TABLE aggregates TO aggregates_saved' });
    await dbs.ch.command({
      query: `CREATE TABLE aggregates AS aggregates_saved ENGINE = MergeTree
              ORDER BY (tenant_id, symbol, timestamp) TTL toDateTime(timestamp) + INTERVAL 3650 DAY`,
    });
    try {
      const run = runMigrate(config(), log);
      await expect(run).rejects.toThrow(
        'aggregates engine is MergeTree, expected ReplacingMergeTree(version)',
      );
      await expect(runMigrate(config(), log)).rejects.toThrow(
        'aggregates sorting key is (tenant_id, symbol, timestamp), expected (tenant_id, symbol, timeframe, timestamp)',
      );
    } finally {
      await dbs.ch.command({ query: 'DROP TABLE aggregates' });
      await dbs.ch.command({ query: 'RENAME TABLE aggregates_saved TO aggregates' });
    }

    await dbs.pg.query('CREATE UNIQUE INDEX seed_style_key ON market_ticks (symbol, time)');
    try {
      await expect(runMigrate(config(), log)).rejects.toThrow(
        'market_ticks has an unexpected unique index seed_style_key on (symbol, time)',
      );
    } finally {
      await dbs.pg.query('DROP INDEX seed_style_key');
    }
    await expect(runMigrate(config(), log)).resolves.toBeDefined();
  });

  it('runs from the built CLI: exit 0 with a summary, exit 1 naming the problem', async () => {
    const ok = await runCli(['migrate'], { ...dbs.env, MIGRATE_WAIT_SECONDS: '5' });
    expect(ok.code).toBe(0);
    expect(ok.lines.join('\n')).toContain('migrate done: schemas applied and verified');

    const badConfig = await runCli(['migrate'], { ...dbs.env, CLICKHOUSE_RETENTION_DAYS: 'ten years' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.lines.join('\n')).toContain("CLICKHOUSE_RETENTION_DAYS ('ten years')");

    // Nothing listens on port 1: bounded waiting, then a clear failure.
    const down = await runCli(['migrate'], { ...dbs.env, TIMESCALEDB_PORT: '1', MIGRATE_WAIT_SECONDS: '1' });
    expect(down.code).toBe(1);
    expect(down.lines.join('\n')).toMatch(/PostgreSQL 127\.0\.0\.1:1\/it_\w+ not reachable within 1 s/);
  });
});
