// 1. Bridge ingest. Ticks: a JetStream stream pre-filled with N ticks is drained by one
// bridge process into market_ticks (written, committed, acked), against the ceiling of the
// same rows written by a plain COPY into the same table (psql, one COPY of all rows).
// Bars: a stream of historical bars drained into ClickHouse `aggregates`, against one
// plain JSONEachRow insert of the same rows.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { tickCount } from '../test/support/bridge-harness.js';
import type { TestDatabases } from '../test/support/databases.js';
import { barOutgoing, makeBar } from '../test/support/market-messages.js';
import { barRow, TICK_COLUMNS } from '../workloads/src/bridge/rows.js';
import { TIMEFRAME_MS } from '../workloads/src/contracts/timeframes.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { drainBars, drainTicks, type DrainRun } from './lib/bridge.js';
import { freshDatabases, privateNats, publishAll, Resources, type BenchNats } from './lib/fixtures.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { baselineScript, cpuSnapshot, cpuSpentByCommand, spawnNode } from './lib/processes.js';
import { alternate, median } from './lib/stats.js';
import { benchQuotes, copyText, DATA_START_MS, SYMBOLS, tickMessages, ticksOf } from './lib/ticks.js';

async function expectTicks(dbs: TestDatabases, expected: number, what: string): Promise<void> {
  const n = await tickCount(dbs);
  if (n !== expected) throw new Error(`${what}: market_ticks holds ${n} rows, expected ${expected}`);
}

/**
 * The ceiling: one COPY of every row by psql, timed by psql itself (\timing), so that
 * neither process start nor connecting counts.
 */
export async function psqlCopy(env: Record<string, string>, text: string): Promise<number> {
  const child = spawn(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', env.TIMESCALEDB_HOST!, '-p', env.TIMESCALEDB_PORT!],
    {
      env: {
        PATH: process.env.PATH ?? '',
        PGUSER: env.TIMESCALEDB_USER!,
        PGPASSWORD: env.TIMESCALEDB_PASSWORD!,
        PGDATABASE: env.TIMESCALEDB_DATABASE!,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`cannot run psql: ${error.message}`)));
    child.once('close', resolve);
  });
  child.stdin.write(`\\timing on\nCOPY market_ticks (${TICK_COLUMNS.join(', ')}) FROM STDIN;\n`);
  child.stdin.write(text);
  child.stdin.end('\\.\n');
  const code = await exited;
  const ms = /Time: ([\d.]+) ms/.exec(out)?.[1];
  if (code !== 0 || ms === undefined) throw new Error(`psql COPY failed (exit ${code}): ${out.trim()}`);
  return Number(ms);
}

/** The NATS client alone: bench/baselines/minimal-consumer.ts drains the stream, acking, with no database. */
async function minimalConsumer(
  nats: BenchNats,
  count: number,
): Promise<{ rate: number; cpuSeconds: number }> {
  let line = '';
  const child = spawnNode(
    baselineScript('minimal-consumer.js'),
    ['--nats', nats.url, '--count', String(count)],
    {
      name: 'minimal-consumer',
      env: {},
      onLine: (l) => (line = l.startsWith('{') ? l : line),
    },
  );
  const code = await child.exited;
  if (code !== 0 || !line) throw new Error(`minimal consumer failed:\n${child.tail()}`);
  const result = JSON.parse(line) as { seconds: number; cpuSeconds: number; acked: number };
  if (result.acked !== count) throw new Error(`minimal consumer acked ${result.acked} of ${count}`);
  return { rate: count / result.seconds, cpuSeconds: result.cpuSeconds };
}

async function truncateTicks(dbs: TestDatabases): Promise<void> {
  await dbs.pg.query('TRUNCATE market_ticks');
}

async function truncateBars(dbs: TestDatabases): Promise<void> {
  for (const table of ['aggregates', 'daily_stats_state', 'monthly_stats_state']) {
    await dbs.ch.command({ query: `TRUNCATE TABLE IF EXISTS ${table}` });
  }
}

async function barCount(dbs: TestDatabases): Promise<number> {
  const rs = await dbs.ch.query({
    query: 'SELECT count() AS n FROM aggregates FINAL',
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

function historicalBars(count: number) {
  const step = TIMEFRAME_MS['5m'];
  const start = Math.floor(DATA_START_MS / step) * step - count * step;
  return Array.from({ length: count }, (_, i) =>
    makeBar({
      symbol: SYMBOLS[i % SYMBOLS.length],
      timeframe: '5m',
      timestamp_ms: start + Math.floor(i / SYMBOLS.length) * step,
      source: 'polygon_historical',
    }),
  );
}

const summarize = (runs: DrainRun[]) => ({
  seconds: runs.map((r) => r.seconds),
  bridgeCpuSeconds: runs.map((r) => r.bridgeCpuSeconds),
  peakRssMb: runs.map((r) => r.peakRssMb),
  natsServerCpuSeconds: runs.map((r) => r.natsServerCpuSeconds),
  postgresCpuSeconds: runs.map((r) => r.postgresCpuSeconds),
});

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const ticks = bySize(o.size, { tiny: 3_000, quick: 50_000, full: 200_000 });
  const bars = bySize(o.size, { tiny: 10_000, quick: 20_000, full: 50_000 });
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);

    o.log(`pre-filling MARKET_TICKS with ${ticks} ticks`);
    const quotes = benchQuotes(ticks, SYMBOLS);
    await publishAll(nats.nc, tickMessages(quotes));
    const copy = copyText(ticksOf(quotes));
    const tickSides = await alternate(
      o.rounds,
      async () => {
        await truncateTicks(dbs);
        const r = await drainTicks(nats, dbs, ticks, 1, { profileDir: o.profileDir, timeoutMs: 600_000 });
        await expectTicks(dbs, ticks, 'bridge');
        return r;
      },
      async () => {
        await truncateTicks(dbs);
        const before = cpuSnapshot();
        const ms = await psqlCopy(dbs.env, copy);
        const spent = cpuSpentByCommand(before, cpuSnapshot());
        await expectTicks(dbs, ticks, 'COPY');
        // The second baseline runs in the same turn, so it alternates with the bridge too.
        const natsAlone = await minimalConsumer(nats, ticks);
        return {
          rate: (ticks * 1000) / ms,
          seconds: ms / 1000,
          postgresCpuSeconds: spent.postgres ?? 0,
          natsAloneRate: natsAlone.rate,
          natsAloneCpuSeconds: natsAlone.cpuSeconds,
        };
      },
      o.log,
    );

    // Bars alone: the tick stream is emptied so the bridge has only bars to do.
    await nats.resetStream('MARKET_TICKS');
    o.log(`pre-filling MARKET_BARS with ${bars} historical bars`);
    const barMessages = historicalBars(bars);
    await publishAll(nats.nc, barMessages.map(barOutgoing));
    const rows = barMessages.map((b) => barRow(b, 'system'));
    const barSides = await alternate(
      o.rounds,
      async () => {
        await truncateBars(dbs);
        const r = await drainBars(nats, dbs, bars, { profileDir: o.profileDir, timeoutMs: 600_000 });
        const n = await barCount(dbs);
        if (n !== bars) throw new Error(`bridge: aggregates holds ${n} bars, expected ${bars}`);
        return r;
      },
      async () => {
        await truncateBars(dbs);
        const started = performance.now();
        await dbs.ch.insert({ table: 'aggregates', values: rows, format: 'JSONEachRow' });
        const seconds = (performance.now() - started) / 1000;
        const n = await barCount(dbs);
        if (n !== bars) throw new Error(`plain insert: aggregates holds ${n} bars, expected ${bars}`);
        return { rate: bars / seconds, seconds };
      },
      o.log,
    );

    const tickRate = median(tickSides.product.map((r) => r.rate));
    const copyRate = median(tickSides.baseline.map((r) => r.rate));
    const barRate = median(barSides.product.map((r) => r.rate));
    const insertRate = median(barSides.baseline.map((r) => r.rate));
    const tickRatio = tickRate / copyRate;
    const natsAloneRate = median(tickSides.baseline.map((r) => r.natsAloneRate));
    const tickCpu = median(tickSides.product.map((r) => ticks / r.bridgeCpuSeconds));
    // Where the CPU goes, per tick (µs): the bridge, the NATS server that delivers and takes
    // the acks, PostgreSQL; against PostgreSQL alone for the COPY.
    const perTick = (seconds: readonly number[]) => median(seconds.map((s) => (s * 1e6) / ticks));
    const cpu = {
      bridge: perTick(tickSides.product.map((r) => r.bridgeCpuSeconds)),
      natsServer: perTick(tickSides.product.map((r) => r.natsServerCpuSeconds ?? 0)),
      postgres: perTick(tickSides.product.map((r) => r.postgresCpuSeconds ?? 0)),
      copyPostgres: perTick(tickSides.baseline.map((r) => r.postgresCpuSeconds)),
    };
    const pathCpu = cpu.bridge + cpu.natsServer + cpu.postgres;
    // /proc counts CPU in clock ticks (10 ms): in a small run PostgreSQL's share, on either
    // side, can stay below one, and a ratio with a zero in it says nothing.
    const perCopyCpu = (x: number) => (x > 0 && cpu.copyPostgres > 0 ? x / cpu.copyPostgres : undefined);
    const rowsOut: ResultRow[] = [
      {
        measure: 'ticks NATS → market_ticks, acked after commit',
        unit: 'ticks/s',
        product: tickRate,
        baseline: copyRate,
        baselineName: 'psql COPY',
        ratio: tickRatio,
        target: '≥ 0.5 × COPY',
        met: tickRatio >= 0.5,
        rounds: {
          product: tickSides.product.map((r) => r.rate),
          baseline: tickSides.baseline.map((r) => r.rate),
        },
      },
      {
        measure: 'ticks NATS → acked, against the NATS client alone',
        unit: 'ticks/s',
        product: tickRate,
        baseline: natsAloneRate,
        baselineName: 'fetch + ack, no database',
        ratio: tickRate / natsAloneRate,
        rounds: {
          product: tickSides.product.map((r) => r.rate),
          baseline: tickSides.baseline.map((r) => r.natsAloneRate),
        },
      },
      {
        measure: 'ticks per bridge CPU-second',
        unit: 'ticks/s',
        product: tickCpu,
      },
      {
        measure: 'PostgreSQL CPU per tick written',
        unit: 'µs',
        product: cpu.postgres,
        baseline: cpu.copyPostgres,
        baselineName: 'psql COPY',
        ratio: perCopyCpu(cpu.postgres),
      },
      {
        measure: 'CPU per tick, bridge + nats-server + PostgreSQL',
        unit: 'µs',
        product: pathCpu,
        baseline: cpu.copyPostgres,
        baselineName: 'PostgreSQL under psql COPY',
        ratio: perCopyCpu(pathCpu),
      },
      {
        measure: 'bars NATS → ClickHouse aggregates, acked',
        unit: 'bars/s',
        product: barRate,
        baseline: insertRate,
        baselineName: 'one plain insert',
        ratio: barRate / insertRate,
        rounds: {
          product: barSides.product.map((r) => r.rate),
          baseline: barSides.baseline.map((r) => r.rate),
        },
      },
    ];
    return {
      id: 'bridge-ingest',
      title: 'Bridge ingest: pre-filled JetStream stream → databases',
      rows: rowsOut,
      notes: [
        `${ticks} ticks of ${SYMBOLS.length} symbols, ${o.rounds} rounds; bridge with its defaults (LIVE_BATCH_SIZE 1000, BRIDGE_WRITE_CONCURRENCY 2; a binary COPY per batch, INSERT … ON CONFLICT DO NOTHING when a batch holds stored ticks), one process; the clock runs from the moment every replica holds its first batch until the consumer has every message acked`,
        'COPY: psql, one COPY … FROM STDIN of all rows into the same (truncated) table, timed by psql; both sides pay the same two indexes',
        `${bars} polygon_historical bars (HISTORICAL_BATCH_SIZE 5000); rate from the first acked batch to the last; baseline: one JSONEachRow insert of all rows with @clickhouse/client`,
        'PostgreSQL of the test environment: fsync and synchronous_commit off',
        'NATS client alone: bench/baselines/minimal-consumer.ts drains the same stream with the same client and pull pattern (fetch 1000, ack each after the batch), with no parsing and no database: the most the bridge could do on this machine with this NATS',
        `CPU per tick (median round, from /proc): bridge ${cpu.bridge.toFixed(1)} µs, nats-server ${cpu.natsServer.toFixed(1)} µs (deliveries and acks), PostgreSQL ${cpu.postgres.toFixed(1)} µs (binary COPY per batch) vs ${cpu.copyPostgres.toFixed(1)} µs under psql's text COPY; ${os.availableParallelism()} cores can run this path at most at ${Math.round((os.availableParallelism() * 1e6) / pathCpu).toLocaleString('en-US')} ticks/s`,
      ],
      details: {
        ticks,
        bars,
        tickRounds: summarize(tickSides.product),
        cpuMicrosecondsPerTick: cpu,
        copyRounds: tickSides.baseline,
        barRounds: summarize(barSides.product),
        insertRounds: barSides.baseline,
      },
    };
  } finally {
    await resources.closeAll();
  }
}

export const bridgeIngest: Benchmark = {
  id: 'bridge-ingest',
  title: 'Bridge ingest',
  run,
};
