// 4. Aggregator: one trading day of 30 symbols (100,000 ticks each, ~3 million) in
// market_ticks, aggregated into all seven timeframes by one run of the built CLI
// (`aggregate --timeframe all --from <day> --to <day+1>`), timed from the run's start to
// every bar being readable in ClickHouse (aggregator → NATS → bridge → aggregates). The
// baseline is one hand-written SQL query computing the same bars, timed on its own. The
// bars that land in ClickHouse are checked against the baseline's, value by value.
import path from 'node:path';
import type { TestDatabases } from '../test/support/databases.js';
import { STREAMS } from '../workloads/src/contracts/subjects.js';
import { TIMEFRAME_MS, TIMEFRAMES, barEnd, barStart } from '../workloads/src/contracts/timeframes.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { startBridgeProcess } from './lib/bridge.js';
import { freshDatabases, privateNats, Resources, type BenchNats } from './lib/fixtures.js';
import { REPO_ROOT, sleep, spawnNode } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { alternate, median } from './lib/stats.js';

const SYMBOL_COUNT = 30;
const DAY_MS = 86_400_000;
/** A past day (UTC), recent enough for the bridge's retention. */
const DAY = Math.floor(Date.now() / DAY_MS) * DAY_MS - 3 * DAY_MS;
const CLI = path.join(REPO_ROOT, 'bin/market-pipeline.js');

/** AAA/USD, ABA/USD, … : 30 symbols of the kind the pipeline takes. */
const symbols = Array.from(
  { length: SYMBOL_COUNT },
  (_, s) => `${String.fromCharCode(65 + Math.floor(s / 26))}${String.fromCharCode(65 + (s % 26))}A/USD`,
);

/**
 * `perSymbol` ticks per symbol spread over the day; every 50th shares its millisecond with
 * the tick before it (a different quote at the same time: the tie order matters).
 */
async function generateDay(dbs: TestDatabases, perSymbol: number): Promise<void> {
  await dbs.pg.query(
    `INSERT INTO market_ticks (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, ingested_at)
     SELECT ts, 'system', sym, bid, bid + 0.0002, bid + 0.0001, 2, (extract(epoch FROM ts) * 1000)::bigint,
            48 + (i % 50 = 1)::int, ts
     FROM (SELECT i, ($2::text[])[s + 1] AS sym,
                  $3::timestamptz + ((i - (i % 50 = 1)::int) * (86400000 / $1) + (s % 7)) * interval '1 ms' AS ts,
                  round((1 + s + sin(i / 1000.0 + s) * 0.01)::numeric, 5)::float8 + (i % 50 = 1)::int * 0.00001 AS bid
           FROM generate_series(0, ${SYMBOL_COUNT - 1}) s, generate_series(0, $1 - 1) i) g`,
    [perSymbol, symbols, new Date(DAY)],
  );
  await dbs.pg.query('VACUUM ANALYZE market_ticks');
}

const STRIDE: Record<string, string> = Object.fromEntries(
  TIMEFRAMES.map((tf) => [tf, `${TIMEFRAME_MS[tf] / 1000} seconds`]),
);

/**
 * The baseline: the bars of all seven timeframes in one statement, as one would write it
 * by hand: every tick joined to each timeframe, grouped by bucket, open and close by
 * ordered array_agg over the table's unique-key order (the product's tie order).
 */
export const HAND_WRITTEN_BARS = `
SELECT tf.timeframe, t.symbol,
       (extract(epoch FROM date_bin(tf.stride, t.time, tf.origin)) * 1000)::float8 AS start_ms,
       (array_agg(t.mid ORDER BY t.time, t.bid, t.ask, t.exchange))[1] AS open,
       max(t.mid) AS high, min(t.mid) AS low,
       (array_agg(t.mid ORDER BY t.time DESC, t.bid DESC, t.ask DESC, t.exchange DESC))[1] AS close,
       count(*)::int AS volume, avg(t.mid) AS vwap
FROM market_ticks t
CROSS JOIN (VALUES ${TIMEFRAMES.map(
  (tf) =>
    `('${tf}', interval '${STRIDE[tf]}', timestamptz '${tf === '1w' ? '1970-01-05' : '1970-01-01'} 00:00:00+00')`,
).join(', ')}) AS tf(timeframe, stride, origin)
WHERE t.tenant_id = 'system' AND t.symbol = ANY($1::text[]) AND t.time >= $2 AND t.time < $3
GROUP BY 1, 2, 3`;

interface BaselineBar {
  timeframe: string;
  symbol: string;
  start_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
}

async function handWritten(dbs: TestDatabases): Promise<{ seconds: number; bars: BaselineBar[] }> {
  const client = await dbs.pg.connect();
  try {
    await client.query('SET jit = off'); // as the aggregator runs its query
    const started = performance.now();
    const r = await client.query<BaselineBar>(HAND_WRITTEN_BARS, [
      symbols,
      new Date(DAY),
      new Date(DAY + DAY_MS),
    ]);
    return { seconds: (performance.now() - started) / 1000, bars: r.rows };
  } finally {
    client.release();
  }
}

async function chCount(dbs: TestDatabases): Promise<number> {
  const rs = await dbs.ch.query({ query: 'SELECT count() AS n FROM aggregates', format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

interface ProductRun {
  /** Run start → every bar readable in ClickHouse. */
  seconds: number;
  /** Run start → the aggregator process exited (bars confirmed by NATS). */
  runSeconds: number;
  /** The aggregator's own query time (its summary). */
  querySeconds: number;
  bars: number;
}

async function productRun(nats: BenchNats, dbs: TestDatabases, o: BenchOptions): Promise<ProductRun> {
  // A fresh bars stream (the same bars again would be duplicates to the server) and table.
  await nats.resetStream(STREAMS.bars.name);
  for (const table of ['aggregates', 'daily_stats_state', 'monthly_stats_state']) {
    await dbs.ch.command({ query: `TRUNCATE TABLE IF EXISTS ${table}` });
  }
  const bridge = await startBridgeProcess(nats, dbs, { name: 'bridge', profileDir: o.profileDir });
  try {
    await bridge.waitReady();
    let summary: { bars?: number; queryMs?: number } | undefined;
    const nowMs = barEnd('1w', barStart('1w', DAY));
    const started = performance.now();
    const aggregator = spawnNode(
      CLI,
      [
        'aggregate',
        '--timeframe',
        'all',
        '--from',
        new Date(DAY).toISOString(),
        '--to',
        new Date(DAY + DAY_MS).toISOString(),
        '--now',
        new Date(nowMs).toISOString(),
      ],
      {
        name: 'aggregator',
        profileDir: o.profileDir,
        env: { ...dbs.env, NATS_URL: nats.url, SYMBOLS: symbols.join(','), LOG_LEVEL: 'info' },
        onLine: (line) => {
          if (line.includes('"bars"') && line.includes('aggregated'))
            summary = JSON.parse(line) as typeof summary;
        },
      },
    );
    let exitedAt: number | undefined;
    void aggregator.exited.then(() => (exitedAt = performance.now()));
    for (;;) {
      await sleep(50);
      if (exitedAt !== undefined && aggregator.child.exitCode !== 0) {
        throw new Error(`aggregator failed (exit ${aggregator.child.exitCode}):\n${aggregator.tail()}`);
      }
      if (summary?.bars !== undefined && (await chCount(dbs)) >= summary.bars) break;
      if (performance.now() - started > 600_000) throw new Error('bars not in ClickHouse within 600 s');
    }
    const seconds = (performance.now() - started) / 1000;
    await aggregator.exited;
    return {
      seconds,
      runSeconds: ((exitedAt ?? performance.now()) - started) / 1000,
      querySeconds: (summary!.queryMs ?? Number.NaN) / 1000,
      bars: summary!.bars!,
    };
  } finally {
    await bridge.stop();
  }
}

/** The bars in ClickHouse must be the baseline's, to the last bit a float can differ by. */
async function expectSameBars(dbs: TestDatabases, expected: BaselineBar[]): Promise<void> {
  const rs = await dbs.ch.query({
    query: `SELECT timeframe, symbol, timestamp_ms, open, high, low, close, volume, vwap FROM aggregates FINAL`,
    format: 'JSONEachRow',
  });
  const stored = await rs.json<{
    timeframe: string;
    symbol: string;
    timestamp_ms: string;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    vwap: number;
  }>();
  const key = (tf: string, symbol: string, ms: number) => `${tf}|${symbol}|${ms}`;
  const byKey = new Map(stored.map((b) => [key(b.timeframe, b.symbol, Number(b.timestamp_ms)), b]));
  if (stored.length !== expected.length) {
    throw new Error(
      `ClickHouse holds ${stored.length} bars, the hand-written query computes ${expected.length}`,
    );
  }
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  for (const e of expected) {
    const s = byKey.get(key(e.timeframe, e.symbol, e.start_ms));
    const same =
      s &&
      close(s.open, e.open) &&
      close(s.high, e.high) &&
      close(s.low, e.low) &&
      close(s.close, e.close) &&
      s.volume === e.volume &&
      close(s.vwap, e.vwap);
    if (!same) throw new Error(`bar differs: expected ${JSON.stringify(e)}, stored ${JSON.stringify(s)}`);
  }
}

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const perSymbol = bySize(o.size, { tiny: 500, quick: 20_000, full: 100_000 });
  const rounds = Math.min(o.rounds, 3);
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    o.log(`generating ${SYMBOL_COUNT} × ${perSymbol} ticks for ${new Date(DAY).toISOString().slice(0, 10)}`);
    const t = performance.now();
    await generateDay(dbs, perSymbol);
    o.log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    let checked = false;
    let reference: BaselineBar[] | undefined;
    const sides = await alternate(
      rounds,
      async () => {
        const r = await productRun(nats, dbs, o);
        if (!checked) {
          reference ??= (await handWritten(dbs)).bars;
          await expectSameBars(dbs, reference);
          checked = true;
        }
        return r;
      },
      async () => {
        const { seconds, bars } = await handWritten(dbs);
        reference ??= bars;
        return { seconds, bars: bars.length };
      },
      o.log,
    );
    const product = median(sides.product.map((r) => r.seconds));
    const baseline = median(sides.baseline.map((r) => r.seconds));
    const ratio = baseline / product;
    const rows: ResultRow[] = [
      {
        measure: `${SYMBOL_COUNT * perSymbol} ticks → 7 timeframes, run start → bars readable in ClickHouse`,
        unit: 's',
        product,
        baseline,
        baselineName: 'one hand-written SQL query',
        ratio,
        target: '≤ 10 s and ≥ 0.5 × SQL speed',
        met: product <= 10 && ratio >= 0.5,
        rounds: {
          product: sides.product.map((r) => r.seconds),
          baseline: sides.baseline.map((r) => r.seconds),
        },
      },
      {
        measure: 'of which: aggregator run (start → exit, bars confirmed by NATS)',
        unit: 's',
        product: median(sides.product.map((r) => r.runSeconds)),
      },
      {
        measure: "of which: the aggregator's SQL query",
        unit: 's',
        product: median(sides.product.map((r) => r.querySeconds)),
        baseline,
        baselineName: 'one hand-written SQL query',
        ratio: baseline / median(sides.product.map((r) => r.querySeconds)),
      },
    ];
    return {
      id: 'aggregator',
      title: 'Aggregator: one trading day of 30 symbols into all seven timeframes',
      rows,
      notes: [
        `${SYMBOL_COUNT} symbols × ${perSymbol} ticks on one day (every 50th tick a same-millisecond tie), ${sides.product[0]?.bars ?? '?'} bars; one \`aggregate --timeframe all --from --to\` run of the built CLI; a bridge (defaults) writes the bars to ClickHouse; ${rounds} rounds`,
        "ratio = SQL baseline's time ÷ the product's (its speed relative to the query alone)",
        'baseline: one statement, every tick joined to the seven timeframes, open/close by ordered array_agg; JIT off as in the aggregator; the bars in ClickHouse were compared with its result value by value (equal)',
      ],
      details: { perSymbol, product: sides.product, baseline: sides.baseline },
    };
  } finally {
    await resources.closeAll();
  }
}

export const aggregator: Benchmark = { id: 'aggregator', title: 'Aggregator', run };
