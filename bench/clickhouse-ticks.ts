// 7. The long-term tick store (CLICKHOUSE_TICKS_ENABLED): how fast the bridge fills
// ClickHouse `ticks`, and how many bytes a tick takes there.
//
// Rate: a JetStream stream pre-filled with N ticks is drained by one bridge process with the
// tick store on; the figure is the store's consumer (bridge-ticks-clickhouse), from its first
// acked batch to its last (the PostgreSQL consumer runs beside it, as in production). The
// baseline is one plain JSONEachRow INSERT of the same rows into the same table, from the
// benchmark's own process.
//
// Size: after the rounds, the table is merged (OPTIMIZE FINAL) and system.parts gives the
// bytes on disk per tick and the compression ratio (uncompressed ÷ compressed), against the
// same rows in a table with the same key and no codecs (ClickHouse's default LZ4), and
// against PostgreSQL's market_ticks (heap + indexes per row). The ticks are a random walk per
// symbol with irregular gaps (mean 250 ms), closer to a real feed than the other benchmarks'
// evenly spaced quotes: codecs gain or lose with the data.
import type { TestDatabases } from '../test/support/databases.js';
import { clickhouseTickRows } from '../workloads/src/bridge/clickhouse-ticks.js';
import { BRIDGE_CONSUMERS } from '../workloads/src/bridge/consumers.js';
import { CLICKHOUSE_TICKS_DURABLE } from '../workloads/src/bridge/clickhouse-ticks.js';
import { tickRow } from '../workloads/src/bridge/rows.js';
import type { Quote } from '../workloads/src/collector/polygon-frames.js';
import { pipSizeOf } from '../workloads/src/contracts/symbols.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { startBridgeProcess } from './lib/bridge.js';
import { freshDatabases, privateNats, publishAll, Resources, type BenchNats } from './lib/fixtures.js';
import { sleep } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { alternate, median } from './lib/stats.js';
import { DATA_START_MS, LEVEL, SYMBOLS, tickMessages, ticksOf } from './lib/ticks.js';

/** A deterministic feed: per symbol a random walk in tenths of a pip, spreads of 1–3 pips, exponential gaps. */
export function walkQuotes(count: number, symbols: readonly string[] = SYMBOLS): Quote[] {
  let seed = 0x2545f491;
  const random = () => {
    // xorshift32: the same feed in every run
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const state = symbols.map((s) => ({ s, pip: pipSizeOf(s, {}), bid: LEVEL[s] ?? 1, t: DATA_START_MS }));
  const quotes: Quote[] = [];
  for (let i = 0; i < count; i++) {
    const q = state[i % state.length]!;
    q.t += 1 + Math.floor(-Math.log(1 - random()) * 250);
    q.bid = Number((q.bid + Math.round((random() - 0.5) * 6) * (q.pip / 10)).toFixed(6));
    const spread = (1 + Math.floor(random() * 3)) * q.pip;
    quotes.push({
      symbol: q.s,
      bid: q.bid,
      ask: Number((q.bid + spread).toFixed(6)),
      exchange: 48,
      timestampMs: q.t,
    });
  }
  return quotes;
}

async function count(dbs: TestDatabases, table: string): Promise<number> {
  const rs = await dbs.ch.query({ query: `SELECT count() AS n FROM ${table} FINAL`, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
}

interface PartsSize {
  rows: number;
  bytesOnDisk: number;
  compressed: number;
  uncompressed: number;
}

/** Merges the table's parts and reads their size (active parts only). */
async function partsSize(dbs: TestDatabases, table: string): Promise<PartsSize> {
  await dbs.ch.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
  const rs = await dbs.ch.query({
    query: `SELECT sum(rows) AS rows, sum(bytes_on_disk) AS disk, sum(data_compressed_bytes) AS c,
                   sum(data_uncompressed_bytes) AS u
              FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active`,
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ rows: string; disk: string; c: string; u: string }>();
  return {
    rows: Number(r?.rows ?? 0),
    bytesOnDisk: Number(r?.disk ?? 0),
    compressed: Number(r?.c ?? 0),
    uncompressed: Number(r?.u ?? 0),
  };
}

/** Compressed bytes per column, where the server reports them (system.parts_columns). */
async function columnBytes(dbs: TestDatabases, table: string): Promise<Record<string, number>> {
  try {
    const rs = await dbs.ch.query({
      query: `SELECT column, sum(column_data_compressed_bytes) AS c FROM system.parts_columns
               WHERE database = currentDatabase() AND table = {t:String} AND active GROUP BY column`,
      query_params: { t: table },
      format: 'JSONEachRow',
    });
    return Object.fromEntries(
      (await rs.json<{ column: string; c: string }>()).map((r) => [r.column, Number(r.c)]),
    );
  } catch {
    return {};
  }
}

/** Drains the pre-filled stream with one bridge (tick store on) and times the store's consumer. */
async function drainIntoStore(
  nats: BenchNats,
  dbs: TestDatabases,
  total: number,
  o: BenchOptions,
): Promise<{ rate: number; seconds: number }> {
  await nats.deleteConsumer(BRIDGE_CONSUMERS.ticks.stream, BRIDGE_CONSUMERS.ticks.durable);
  await nats.deleteConsumer(BRIDGE_CONSUMERS.ticks.stream, CLICKHOUSE_TICKS_DURABLE);
  await dbs.pg.query('TRUNCATE market_ticks');
  await dbs.ch.command({ query: 'TRUNCATE TABLE ticks' });
  const bridge = await startBridgeProcess(nats, dbs, {
    name: 'bridge',
    profileDir: o.profileDir,
    env: { CLICKHOUSE_TICKS_ENABLED: 'true' },
  });
  try {
    // Polled from the start (not after /readyz): the first insert may land before readiness.
    const deadline = Date.now() + 600_000;
    let first: { at: number; done: number } | undefined;
    for (;;) {
      const done = await bridge
        .metric('market_pipeline_bridge_messages_acked_total', { kind: 'tick_store' })
        .catch(() => 0); // not serving /metrics yet
      if (done === 0) {
        if (bridge.child.exitCode !== null) throw new Error(`bridge exited:\n${bridge.tail()}`);
        if (Date.now() > deadline) throw new Error('the tick store wrote nothing within 600 s');
        await sleep(20);
        continue;
      }
      const at = performance.now();
      if (done > 0 && !first) first = { at, done };
      if (done >= total && first) {
        const seconds = (at - first.at) / 1000;
        // The PostgreSQL consumer too, so that market_ticks is complete for the size figures.
        while (
          (await bridge.metric('market_pipeline_bridge_messages_acked_total', { kind: 'tick' })) < total
        ) {
          if (Date.now() > deadline) throw new Error('market_ticks not filled within 600 s');
          await sleep(50);
        }
        const stored = await count(dbs, 'ticks');
        if (stored !== total) throw new Error(`ticks holds ${stored} rows, expected ${total}`);
        return { rate: (total - first.done) / seconds, seconds };
      }
      if (bridge.child.exitCode !== null) throw new Error(`bridge exited:\n${bridge.tail()}`);
      if (Date.now() > deadline) throw new Error(`tick store not filled within 600 s (${done}/${total})`);
      await sleep(50);
    }
  } finally {
    await bridge.stop();
  }
}

/** The ticks table with other codecs: none (ClickHouse's default LZ4), or the textbook time-series pair. */
function variantTable(name: string, codecs: { time: string; price: string }): string {
  return `CREATE TABLE IF NOT EXISTS ${name}
(
    tenant_id LowCardinality(String), symbol LowCardinality(String),
    timestamp DateTime64(3, 'UTC') ${codecs.time}, bid Float64 ${codecs.price}, ask Float64 ${codecs.price},
    mid Float64 ${codecs.price}, spread Float64 ${codecs.price}, exchange Int32,
    ingested_at DateTime64(3, 'UTC') ${codecs.time}
)
ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, symbol, timestamp, bid, ask, exchange)`;
}

async function variantSize(
  dbs: TestDatabases,
  name: string,
  codecs: { time: string; price: string },
  rows: readonly object[],
): Promise<PartsSize> {
  await dbs.ch.command({ query: variantTable(name, codecs) });
  await dbs.ch.insert({ table: name, values: rows, format: 'JSONEachRow' });
  return partsSize(dbs, name);
}

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  // At least a few inserts of 5000 (the rate runs from the first acked insert to the last).
  const total = bySize(o.size, { tiny: 20_000, quick: 50_000, full: 200_000 });
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    const quotes = walkQuotes(total);
    o.log(`pre-filling MARKET_TICKS with ${total} ticks`);
    await publishAll(nats.nc, tickMessages(quotes));
    const rows = clickhouseTickRows(ticksOf(quotes).map((t) => tickRow(t, 'system')));

    const sides = await alternate(
      o.rounds,
      () => drainIntoStore(nats, dbs, total, o),
      async () => {
        await dbs.ch.command({ query: 'TRUNCATE TABLE ticks' });
        const started = performance.now();
        await dbs.ch.insert({ table: 'ticks', values: rows, format: 'JSONEachRow' });
        const seconds = (performance.now() - started) / 1000;
        const stored = await count(dbs, 'ticks');
        if (stored !== total) throw new Error(`plain insert: ticks holds ${stored} rows, expected ${total}`);
        return { rate: total / seconds, seconds };
      },
      o.log,
    );

    // Size: the product's table as the bridge left it (every side writes the same rows), the
    // same rows without codecs, and PostgreSQL's table.
    await drainIntoStore(nats, dbs, total, o);
    const stored = await partsSize(dbs, 'ticks');
    const columns = await columnBytes(dbs, 'ticks');
    const plain = await variantSize(dbs, 'ticks_plain', { time: '', price: '' }, rows);
    const textbook = await variantSize(
      dbs,
      'ticks_textbook',
      { time: 'CODEC(DoubleDelta, ZSTD(1))', price: 'CODEC(Gorilla, ZSTD(1))' },
      rows,
    );
    const pgBytes = Number(
      (await dbs.pg.query<{ b: string }>("SELECT pg_total_relation_size('market_ticks') AS b")).rows[0]!.b,
    );
    const pgRows = Number(
      (await dbs.pg.query<{ n: string }>('SELECT count(*) AS n FROM market_ticks')).rows[0]!.n,
    );
    if (stored.rows !== total || plain.rows !== total || pgRows !== total)
      throw new Error(
        `rows measured: ticks ${stored.rows}, ticks_plain ${plain.rows}, market_ticks ${pgRows}`,
      );

    const rate = median(sides.product.map((r) => r.rate));
    const insertRate = median(sides.baseline.map((r) => r.rate));
    const perTick = (bytes: number) => bytes / total;
    const out: ResultRow[] = [
      {
        measure: 'ticks NATS → ClickHouse ticks, acked (tick store consumer)',
        unit: 'ticks/s',
        product: rate,
        baseline: insertRate,
        baselineName: 'one plain INSERT',
        ratio: rate / insertRate,
        rounds: { product: sides.product.map((r) => r.rate), baseline: sides.baseline.map((r) => r.rate) },
      },
      {
        measure: 'bytes per tick on disk, ClickHouse ticks (merged)',
        unit: 'B',
        product: perTick(stored.bytesOnDisk),
        baseline: perTick(plain.bytesOnDisk),
        baselineName: 'same key, no codecs (LZ4)',
        ratio: stored.bytesOnDisk / plain.bytesOnDisk,
      },
      {
        measure: 'bytes per tick on disk, against DoubleDelta + Gorilla',
        unit: 'B',
        product: perTick(stored.bytesOnDisk),
        baseline: perTick(textbook.bytesOnDisk),
        baselineName: 'DoubleDelta times, Gorilla prices',
        ratio: stored.bytesOnDisk / textbook.bytesOnDisk,
      },
      {
        measure: 'compression ratio (uncompressed ÷ compressed)',
        unit: '×',
        product: stored.uncompressed / stored.compressed,
        baseline: plain.uncompressed / plain.compressed,
        baselineName: 'same key, no codecs (LZ4)',
      },
      {
        measure: 'bytes per tick, PostgreSQL market_ticks (heap + indexes)',
        unit: 'B',
        product: perTick(pgBytes),
      },
    ];
    return {
      id: 'clickhouse-ticks',
      title: 'Long-term tick store: bridge → ClickHouse ticks, and bytes per tick',
      rows: out,
      notes: [
        `${total} ticks of ${SYMBOLS.length} symbols (random walk, gaps ~250 ms), ${o.rounds} rounds; one bridge (HISTORICAL_BATCH_SIZE 5000 per insert) with the PostgreSQL consumer running beside the store's`,
        'the ClickHouse here is chDB behind an HTTP adapter (README "Development"): rates are those of that engine, sizes are those of the real MergeTree format',
      ],
      details: {
        product: sides.product,
        baseline: sides.baseline,
        stored,
        plain,
        textbook,
        columnCompressedBytes: columns,
        postgres: { bytes: pgBytes, rows: pgRows },
      },
    };
  } finally {
    await resources.closeAll();
  }
}

export const clickhouseTicks: Benchmark = {
  id: 'clickhouse-ticks',
  title: 'Long-term tick store: bridge → ClickHouse ticks, and bytes per tick',
  run,
};
