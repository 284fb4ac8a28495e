// Proves the test PostgreSQL server is real: a table with a unique key, a batched
// idempotent insert (ON CONFLICT DO NOTHING, as the bridge writes ticks), and
// timestamptz values read back to the millisecond.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { reach, requireEnv, uniqueSuffix } from '../support/servers.js';

describe('PostgreSQL test server', () => {
  const config = {
    host: requireEnv('PostgreSQL', 'TIMESCALEDB_HOST'),
    port: Number(requireEnv('PostgreSQL', 'TIMESCALEDB_PORT')),
    database: requireEnv('PostgreSQL', 'TIMESCALEDB_DATABASE'),
    user: requireEnv('PostgreSQL', 'TIMESCALEDB_USER'),
    password: requireEnv('PostgreSQL', 'TIMESCALEDB_PASSWORD'),
  };
  const table = `it_ticks_${uniqueSuffix()}`;
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ ...config, connectionTimeoutMillis: 3000 });
    await reach('PostgreSQL', `${config.host}:${config.port}`, () => client.connect());
    await client.query(
      `CREATE TABLE ${table} (time timestamptz NOT NULL, symbol text NOT NULL, mid double precision NOT NULL,
       UNIQUE (symbol, time))`,
    );
  });

  afterAll(async () => {
    await client?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await client?.end();
  });

  it('writes a batch idempotently and reads it back exactly', async () => {
    const times = [1706198400123, 1706198400124, 1706198401000];
    const insert = `INSERT INTO ${table} (time, symbol, mid)
      SELECT to_timestamp(t / 1000.0), s, m FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS u(t, s, m)
      ON CONFLICT DO NOTHING`;
    const first = await client.query(insert, [
      times,
      ['EUR/USD', 'EUR/USD', 'GBP/USD'],
      [1.0849, 1.085, 1.2701],
    ]);
    expect(first.rowCount).toBe(3);
    const again = await client.query(insert, [times, ['EUR/USD', 'EUR/USD', 'GBP/USD'], [9, 9, 9]]);
    expect(again.rowCount).toBe(0);

    const rows = await client.query<{ ms: string; symbol: string; mid: number }>(
      `SELECT (extract(epoch FROM time) * 1000)::bigint AS ms, symbol, mid FROM ${table} ORDER BY time`,
    );
    expect(rows.rows.map((r) => [Number(r.ms), r.symbol, r.mid])).toEqual([
      [1706198400123, 'EUR/USD', 1.0849],
      [1706198400124, 'EUR/USD', 1.085],
      [1706198401000, 'GBP/USD', 1.2701],
    ]);
  });
});
