// 3. End-to-end latency at a steady 10,000 ticks/s: the simulator streams 10 symbols at
// 1,000 quotes/s each; collector → NATS → bridge → PostgreSQL, one process each with its
// defaults. For every tick of a measured window, the time from its quote time to the
// moment its row was seen in market_ticks. Baseline: a minimal script reading the same
// feed and inserting each frame straight into the table (no NATS, no batching).
import type pg from 'pg';
import { DEMO_API_KEY } from '../workloads/src/simulator/config.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { freshDatabases, privateNats, Resources } from './lib/fixtures.js';
import { LatencyProbe, type LatencyResult } from './lib/latency.js';
import { startLivePipeline, startSimulatorProcess, type SimulatorProcess } from './lib/pipeline.js';
import { baselineScript, sleep, spawnNode } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { alternate, distribution, median, type Distribution } from './lib/stats.js';
import { SYMBOLS } from './lib/ticks.js';

export const QUOTES_PER_SYMBOL_PER_SECOND = 1000;
export const SIMULATOR_BATCH_MS = 10;
export const RATE = QUOTES_PER_SYMBOL_PER_SECOND * SYMBOLS.length;

export function startTenThousandPerSecond(): Promise<SimulatorProcess> {
  return startSimulatorProcess({
    quotesPerSymbolPerSecond: QUOTES_PER_SYMBOL_PER_SECOND,
    symbols: SYMBOLS,
    batchIntervalMs: SIMULATOR_BATCH_MS,
  });
}

export interface WindowRun {
  latency: Distribution;
  /** Ticks the simulator produced in the window (one per symbol and ms). */
  expected: number;
  stored: number;
  unobserved: number;
}

/** Measures the ticks whose quote time falls in the window starting `warmupMs` from now. */
export async function measureWindow(
  pool: pg.Pool,
  warmupMs: number,
  seconds: number,
): Promise<WindowRun & { result: LatencyResult }> {
  const start = Date.now() + warmupMs;
  const end = start + seconds * 1000;
  const probe = new LatencyProbe(pool, start, end);
  probe.start();
  const result = await probe.finish(end + 15_000);
  return {
    latency: distribution(result.latencies),
    expected: SYMBOLS.length * (end - start),
    stored: result.stored,
    unobserved: result.unobserved,
    result,
  };
}

const strip = (r: WindowRun & { result?: LatencyResult }): WindowRun => ({
  latency: r.latency,
  expected: r.expected,
  stored: r.stored,
  unobserved: r.unobserved,
});

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const seconds = bySize(o.size, { tiny: 2, quick: 10, full: 20 });
  const warmupMs = bySize(o.size, { tiny: 1000, quick: 2000, full: 3000 });
  const rounds = Math.min(o.rounds, 3);
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    const simulator = await startTenThousandPerSecond();
    resources.add('stop the simulator', () => simulator.stop());

    const sides = await alternate(
      rounds,
      async () => {
        await dbs.pg.query('TRUNCATE market_ticks');
        const pipeline = await startLivePipeline(nats.url, dbs.env, simulator, SYMBOLS, o.profileDir);
        try {
          return strip(await measureWindow(dbs.pg, warmupMs, seconds));
        } finally {
          await pipeline.stop();
        }
      },
      async () => {
        await dbs.pg.query('TRUNCATE market_ticks');
        const direct = spawnNode(
          baselineScript('direct-insert.js'),
          ['--ws', simulator.wsUrl, '--key', DEMO_API_KEY, '--symbols', SYMBOLS.join(',')],
          { name: 'direct-insert', env: dbs.env },
        );
        try {
          await sleep(500); // connect and subscribe; the warm-up covers the rest
          if (direct.child.exitCode !== null) throw new Error(`direct insert exited:\n${direct.tail()}`);
          return strip(await measureWindow(dbs.pg, warmupMs, seconds));
        } finally {
          await direct.stop();
        }
      },
      o.log,
    );

    const pick = (runs: WindowRun[], f: (d: Distribution) => number) => runs.map((r) => f(r.latency));
    const row = (
      measure: string,
      f: (d: Distribution) => number,
      combine: (xs: number[]) => number,
      target?: { text: string; met: (v: number) => boolean },
    ): ResultRow => {
      const product = combine(pick(sides.product, f));
      const baseline = combine(pick(sides.baseline, f));
      return {
        measure,
        unit: 'ms',
        product,
        baseline,
        baselineName: 'direct WS → INSERT',
        ratio: product / baseline,
        ...(target ? { target: target.text, met: target.met(product) } : {}),
        rounds: { product: pick(sides.product, f), baseline: pick(sides.baseline, f) },
      };
    };
    const missing = sides.product.reduce((sum, r) => sum + Math.max(0, r.expected - r.stored), 0);
    return {
      id: 'e2e-latency',
      title: `End-to-end latency at ${RATE.toLocaleString('en-US')} ticks/s: quote → row in PostgreSQL`,
      rows: [
        row('latency p50', (d) => d.p50, median),
        row('latency p99', (d) => d.p99, median, { text: '≤ 500 ms', met: (v) => v <= 500 }),
        row(
          'latency max (all rounds)',
          (d) => d.max,
          (xs) => Math.max(...xs),
        ),
      ],
      notes: [
        `simulator: ${SYMBOLS.length} symbols × ${QUOTES_PER_SYMBOL_PER_SECOND} quotes/s, frames every ${SIMULATOR_BATCH_MS} ms; window of ${seconds} s after ${warmupMs / 1000} s of warm-up, ${rounds} rounds; collector and bridge with their defaults (LIVE_BATCH_SIZE 1000, LIVE_BATCH_TIMEOUT 1 s)`,
        `latency = time the row was first seen by a poll of market_ticks (every 10 ms) − the quote's time (Polygon t), so it includes up to ${SIMULATOR_BATCH_MS} ms of simulator batching and up to one poll`,
        `product rounds: ${sides.product.map((r) => `${r.stored}/${r.expected} ticks stored, ${r.unobserved} not seen by the poller`).join('; ')}${missing > 0 ? ' (fewer stored than produced: the simulator skipped slots or ticks were still in flight)' : ''}`,
      ],
      details: { rate: RATE, seconds, warmupMs, product: sides.product, baseline: sides.baseline },
    };
  } finally {
    await resources.closeAll();
  }
}

export const e2eLatency: Benchmark = { id: 'e2e-latency', title: 'End-to-end latency', run };
