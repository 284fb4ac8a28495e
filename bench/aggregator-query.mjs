// Times the aggregator's bar query against hand-written array_agg queries computing the
// same bars, on generated ticks in a database of its own (dropped afterwards).
//   npm run build && set -a && . .test-env/env && set +a && node bench/aggregator-query.mjs [ticksPerSymbol]
// Default: 30 symbols × 100,000 ticks over 2024-01-24 (3 M ticks, one trading day), with
// every 50th tick sharing its millisecond with the one before (a tie).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { BAR_QUERY, barQueryParameters } from '../dist/workloads/src/aggregator/bar-query.js';
import { explicitWindow, scanChunks } from '../dist/workloads/src/aggregator/window.js';

const perSymbol = Number(process.argv[2] ?? 100_000);
const settings = {
  host: process.env.TIMESCALEDB_HOST,
  port: Number(process.env.TIMESCALEDB_PORT),
  user: process.env.TIMESCALEDB_USER,
  password: process.env.TIMESCALEDB_PASSWORD,
};
const database = `bench_agg_${Date.now().toString(36)}`;
const admin = new pg.Client({ ...settings, database: process.env.TIMESCALEDB_DATABASE });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const db = new pg.Client({ ...settings, database });
try {
  await db.connect();
  const schemas = path.resolve('schemas/timescaledb');
  for (const f of readdirSync(schemas)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    await db.query(readFileSync(path.join(schemas, f), 'utf8'));
  }
  let t = performance.now();
  await db.query(
    `
    INSERT INTO market_ticks (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, ingested_at)
    SELECT ts, 'system', sym, bid, bid + 0.0002, bid + 0.0001, 2, (extract(epoch FROM ts) * 1000)::bigint,
           48 + (i % 50 = 1)::int, ts
    FROM (SELECT i, chr(65 + s / 26) || chr(65 + s % 26) || 'A/USD' AS sym,
                 timestamptz '2024-01-24 00:00:00+00'
                   + ((i - (i % 50 = 1)::int) * (86400000 / $1) + (s % 7)) * interval '1 ms' AS ts,
                 round((1 + s + sin(i / 1000.0 + s) * 0.01)::numeric, 5)::float8 + (i % 50 = 1)::int * 0.00001 AS bid
          FROM generate_series(0, 29) s, generate_series(0, $1 - 1) i) g`,
    [perSymbol],
  );
  await db.query('VACUUM ANALYZE market_ticks');
  console.log(`generated ${30 * perSymbol} ticks in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const symbols = (await db.query('SELECT DISTINCT symbol FROM market_ticks ORDER BY 1')).rows.map(
    (r) => r.symbol,
  );
  const [from, to, now] = ['2024-01-24', '2024-01-25', '2024-02-01'].map((d) => Date.parse(`${d}T00:00:00Z`));
  const tfs = ['5m', '15m', '30m', '1h', '4h', '1d', '1w'];
  const product = (list) =>
    barQueryParameters({
      tenantId: 'system',
      symbols,
      chunk: scanChunks(list.map((tf) => explicitWindow(tf, from, to, now)))[0],
    });
  const strides = {
    '5m': '5 minutes',
    '15m': '15 minutes',
    '30m': '30 minutes',
    '1h': '1 hour',
    '4h': '4 hours',
    '1d': '1 day',
    '1w': '7 days',
  };
  const handWritten = (tf) => `
    SELECT symbol, date_bin('${strides[tf]}', time, timestamptz '${tf === '1w' ? '1970-01-05 00:00:00+00' : 'epoch'}') AS start,
           (array_agg(mid ORDER BY time, bid, ask, exchange))[1] AS open, max(mid) AS high, min(mid) AS low,
           (array_agg(mid ORDER BY time DESC, bid DESC, ask DESC, exchange DESC))[1] AS close,
           count(*) AS volume, avg(mid) AS vwap
    FROM market_ticks WHERE tenant_id = 'system' AND symbol = ANY($1::text[]) AND time >= $2 AND time < $3
    GROUP BY 1, 2`;
  const median = async (sql, params) => {
    const ms = [];
    let rows = 0;
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      rows = (await db.query(sql, params)).rowCount;
      ms.push(performance.now() - t);
    }
    return { ms: ms.sort((a, b) => a - b)[1], rows };
  };
  await db.query('SET jit = off'); // as the aggregator does (bar-query.ts)
  const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${BAR_QUERY}`, product(['5m']));
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  let ours = 0;
  let theirs = 0;
  for (const tf of tfs) {
    const a = await median(BAR_QUERY, product([tf]));
    const week = ['2024-01-22T00:00:00Z', '2024-01-29T00:00:00Z'];
    const b = await median(handWritten(tf), [
      symbols,
      ...(tf === '1w' ? week : ['2024-01-24T00:00:00Z', '2024-01-25T00:00:00Z']),
    ]);
    if (a.rows !== b.rows) throw new Error(`${tf}: ${a.rows} bars vs ${b.rows} from the hand-written query`);
    console.log(
      `${tf.padEnd(4)} ${String(a.rows).padStart(5)} bars  aggregator ${a.ms.toFixed(0).padStart(5)} ms  hand-written ${b.ms.toFixed(0).padStart(5)} ms`,
    );
    ours += a.ms;
    theirs += b.ms;
  }
  const all = await median(BAR_QUERY, product(tfs));
  console.log(
    `seven timeframes: ${ours.toFixed(0)} ms in seven aggregator queries, ${all.ms.toFixed(0)} ms in one; ${theirs.toFixed(0)} ms hand-written`,
  );
} finally {
  await db.end().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
