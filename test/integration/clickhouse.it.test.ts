// Proves the test ClickHouse server is real ClickHouse behind the HTTP interface that
// @clickhouse/client speaks: a ReplacingMergeTree table with DateTime64(3) and a TTL, rows
// replaced by a higher version, an expired row dropped by the TTL, bound query parameters,
// millisecond timestamps read back exactly, and server errors as ClickHouseError.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { reach, requireEnv, uniqueSuffix } from '../support/servers.js';

interface Tick {
  symbol: string;
  ts: string;
  ms: string | number;
  mid: number;
  version: number;
}

/** DateTime64(3) text as ClickHouse prints it: 'YYYY-MM-DD hh:mm:ss.mmm' (UTC). */
const chTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('ClickHouse test server', () => {
  const url = requireEnv('ClickHouse', 'CLICKHOUSE_URL');
  const config = {
    url,
    username: requireEnv('ClickHouse', 'CLICKHOUSE_USER'),
    password: requireEnv('ClickHouse', 'CLICKHOUSE_PASSWORD'),
    database: requireEnv('ClickHouse', 'CLICKHOUSE_DATABASE'),
  };
  const table = `it_ticks_${uniqueSuffix()}`;
  // Recent enough to outlive the 30-day TTL, with milliseconds that must survive the round trip.
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000 + 123;
  let client: ClickHouseClient;

  beforeAll(async () => {
    client = createClient({ ...config, log: { level: ClickHouseLogLevel.OFF } }); // expected errors stay quiet
    await reach('ClickHouse', url, async () => {
      const ping = await client.ping();
      if (!ping.success) throw ping.error;
    });
    await client.command({
      query: `CREATE TABLE ${table} (
        symbol LowCardinality(String),
        ts DateTime64(3, 'UTC'),
        mid Float64,
        version UInt32
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (symbol, ts)
      TTL toDateTime(ts) + INTERVAL 30 DAY`,
    });
  });

  afterAll(async () => {
    await client?.command({ query: `DROP TABLE IF EXISTS ${table}` }).catch(() => undefined);
    await client?.close();
  });

  it('replaces rows by version, applies the TTL and reads DateTime64 back to the millisecond', async () => {
    await client.insert({
      table,
      format: 'JSONEachRow',
      values: [
        { symbol: 'EUR/USD', ts: chTime(t0), mid: 1.0849, version: 1 },
        { symbol: 'EUR/USD', ts: chTime(t0 + 1), mid: 1.085, version: 1 },
        { symbol: 'GBP/USD', ts: chTime(t0 + 1000), mid: 1.2701, version: 1 },
        { symbol: 'XAU/USD', ts: chTime(t0 - 400 * 86_400_000), mid: 2030.5, version: 1 },
      ],
    });
    // The same key again with a higher version, in a second insert (so in another part).
    await client.insert({
      table,
      format: 'JSONEachRow',
      values: [{ symbol: 'EUR/USD', ts: chTime(t0), mid: 1.0851, version: 2 }],
    });

    const select = `SELECT symbol, ts, toUnixTimestamp64Milli(ts) AS ms, mid, version FROM ${table}`;
    const eur = await client.query({
      query: `${select} FINAL WHERE symbol = {sym:String} ORDER BY ts`,
      query_params: { sym: 'EUR/USD' },
      format: 'JSONEachRow',
    });
    const rows = await eur.json<Tick>();
    expect(rows.map((r) => ({ ...r, ms: Number(r.ms) }))).toEqual([
      { symbol: 'EUR/USD', ts: chTime(t0), ms: t0, mid: 1.0851, version: 2 },
      { symbol: 'EUR/USD', ts: chTime(t0 + 1), ms: t0 + 1, mid: 1.085, version: 1 },
    ]);

    // A merge makes the replacement physical; the row past its TTL is gone (dropped at insert or merge).
    await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
    const all = await client.query({ query: `${select} ORDER BY symbol, ts`, format: 'JSONEachRow' });
    expect((await all.json<Tick>()).map((r) => [r.symbol, r.ts, r.mid, r.version])).toEqual([
      ['EUR/USD', chTime(t0), 1.0851, 2],
      ['EUR/USD', chTime(t0 + 1), 1.085, 1],
      ['GBP/USD', chTime(t0 + 1000), 1.2701, 1],
    ]);
  });

  it('reports server errors as ClickHouseError with the ClickHouse code', async () => {
    const missing = client.query({ query: `SELECT * FROM ${table}_missing` });
    await expect(missing).rejects.toBeInstanceOf(ClickHouseError);
    await expect(missing).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
    // Only the code: the client takes the first (UPPERCASE) group as the type, here "(SELEC)".
    await expect(client.query({ query: 'SELEC 1' })).rejects.toMatchObject({ code: '62' });

    const intruder = createClient({ ...config, password: 'wrong', log: { level: ClickHouseLogLevel.OFF } });
    try {
      await expect(intruder.query({ query: 'SELECT 1' })).rejects.toMatchObject({
        code: '516',
        type: 'AUTHENTICATION_FAILED',
      });
    } finally {
      await intruder.close();
    }
  });
});
