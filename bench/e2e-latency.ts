// 3. End-to-end latency at three rates: 100 and 1,000 ticks/s (real Polygon forex load is
// about one quote per second per pair, 1–5 k ticks/s for everything) and 10,000 ticks/s.
// The simulator streams 10 symbols; collector → NATS → bridge → PostgreSQL, one process
// each with its defaults. For every tick of a measured window, the time from its quote time
// to the moment its row was seen in market_ticks. Baseline, in the same rounds: a minimal
// script reading the same feed and inserting each frame straight into the table (no NATS,
// no batching).
import type pg from 'pg';
import { DEMO_API_KEY } from '../workloads/src/simulator/config.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { freshDatabases, privateNats, Resources, type BenchNats } from './lib/fixtures.js';
import { LatencyProbe, type LatencyResult } from './lib/latency.js';
import { startLivePipeline, startSimulatorProcess, type SimulatorProcess } from './lib/pipeline.js';
import { baselineScript, sleep, spawnNode } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { alternate, distribution, median, type Distribution } from './lib/stats.js';
import { SYMBOLS } from './lib/ticks.js';
import type { TestDatabases } from '../test/support/databases.js';

export const QUOTES_PER_SYMBOL_PER_SECOND = 1000;
export const SIMULATOR_BATCH_MS = 10;
export const RATE = QUOTES_PER_SYMBOL_PER_SECOND * SYMBOLS.length;

/** The rates measured (ticks/s over all symbols), with the p99 target and most rounds of each. */
const RATES: { rate: number; p99TargetMs?: number; maxRounds: number }[] = [
  { rate: 100, maxRounds: 2 },
  { rate: 1_000, p99TargetMs: 250, maxRounds: 2 },
  { rate: RATE, p99TargetMs: 500, maxRounds: 3 },
];

export function startSimulatorAt(ratePerSecond: number): Promise<SimulatorProcess> {
  return startSimulatorProcess({
    quotesPerSymbolPerSecond: ratePerSecond / SYMBOLS.length,
    symbols: SYMBOLS,
    batchIntervalMs: SIMULATOR_BATCH_MS,
  });
}

export function startTenThousandPerSecond(): Promise<SimulatorProcess> {
  return startSimulatorAt(RATE);
}

export interface WindowRun {
  latency: Distribution;
  /** Ticks the simulator produced in the window (its grid: every symbol at the rate). */
  expected: number;
  stored: number;
  unobserved: number;
  /** Bridge CPU per tick stored over the window (µs); product side only. */
  bridgeCpuMicrosPerTick?: number;
}

/** Measures the ticks whose quote time falls in the window starting `warmupMs` from now. */
export async function measureWindow(
  pool: pg.Pool,
  warmupMs: number,
  seconds: number,
  ratePerSecond = RATE,
): Promise<WindowRun & { result: LatencyResult }> {
  const start = Date.now() + warmupMs;
  const end = start + seconds * 1000;
  const probe = new LatencyProbe(pool, start, end);
  probe.start();
  const result = await probe.finish(end + 15_000);
  return {
    latency: distribution(result.latencies),
    expected: Math.round((ratePerSecond * (end - start)) / 1000),
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
  ...(r.bridgeCpuMicrosPerTick === undefined ? {} : { bridgeCpuMicrosPerTick: r.bridgeCpuMicrosPerTick }),
});

interface RateSides {
  rate: number;
  rounds: number;
  p99TargetMs?: number;
  product: WindowRun[];
  baseline: WindowRun[];
}

async function measureRate(
  o: BenchOptions,
  nats: BenchNats,
  dbs: TestDatabases,
  rate: number,
  rounds: number,
  warmupMs: number,
  seconds: number,
): Promise<{ product: WindowRun[]; baseline: WindowRun[] }> {
  const simulator = await startSimulatorAt(rate);
  try {
    return await alternate(
      rounds,
      async () => {
        await dbs.pg.query('TRUNCATE market_ticks');
        const pipeline = await startLivePipeline(nats.url, dbs.env, simulator, SYMBOLS, o.profileDir);
        try {
          const cpuBefore = pipeline.bridge.cpuSeconds();
          const r = await measureWindow(dbs.pg, warmupMs, seconds, rate);
          const cpu = pipeline.bridge.cpuSeconds() - cpuBefore;
          return strip({ ...r, bridgeCpuMicrosPerTick: (cpu * 1e6) / Math.max(1, r.stored) });
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
          return strip(await measureWindow(dbs.pg, warmupMs, seconds, rate));
        } finally {
          await direct.stop();
        }
      },
      (line) => o.log(`${rate}/s ${line}`),
    );
  } finally {
    await simulator.stop();
  }
}

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const seconds = bySize(o.size, { tiny: 2, quick: 10, full: 20 });
  const warmupMs = bySize(o.size, { tiny: 1000, quick: 2000, full: 3000 });
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    const measured: RateSides[] = [];
    for (const { rate, p99TargetMs, maxRounds } of RATES) {
      const rounds = Math.min(o.rounds, maxRounds);
      const sides = await measureRate(o, nats, dbs, rate, rounds, warmupMs, seconds);
      measured.push({ rate, p99TargetMs, rounds, ...sides });
    }

    const pick = (runs: WindowRun[], f: (d: Distribution) => number) => runs.map((r) => f(r.latency));
    const rows: ResultRow[] = [];
    for (const m of measured) {
      const at = `at ${m.rate.toLocaleString('en-US')}/s`;
      const row = (
        measure: string,
        f: (d: Distribution) => number,
        combine: (xs: number[]) => number,
        target?: { text: string; met: (v: number) => boolean },
      ): ResultRow => {
        const product = combine(pick(m.product, f));
        const baseline = combine(pick(m.baseline, f));
        return {
          measure: `${measure} ${at}`,
          unit: 'ms',
          product,
          baseline,
          baselineName: 'direct WS → INSERT',
          ratio: product / baseline,
          ...(target ? { target: target.text, met: target.met(product) } : {}),
          rounds: { product: pick(m.product, f), baseline: pick(m.baseline, f) },
        };
      };
      const target = m.p99TargetMs;
      rows.push(
        row('latency p50', (d) => d.p50, median),
        row(
          'latency p99',
          (d) => d.p99,
          median,
          target === undefined ? undefined : { text: `≤ ${target} ms`, met: (v) => v <= target },
        ),
        row(
          'latency max (all rounds)',
          (d) => d.max,
          (xs) => Math.max(...xs),
        ),
        {
          measure: `bridge CPU per tick ${at}`,
          unit: 'µs',
          product: median(m.product.map((r) => r.bridgeCpuMicrosPerTick ?? NaN)),
          rounds: { product: m.product.map((r) => r.bridgeCpuMicrosPerTick ?? NaN) },
        },
      );
    }
    const roundsText = (m: RateSides) =>
      `${m.rate}/s: ${m.product.map((r) => `${r.stored}/${r.expected} stored, ${r.unobserved} unseen`).join('; ')}`;
    return {
      id: 'e2e-latency',
      title: `End-to-end latency at ${RATES.map((r) => r.rate.toLocaleString('en-US')).join(', ')} ticks/s: quote → row in PostgreSQL`,
      rows,
      notes: [
        `simulator: ${SYMBOLS.length} symbols, frames every ${SIMULATOR_BATCH_MS} ms; per rate a window of ${seconds} s after ${warmupMs / 1000} s of warm-up, ${measured.map((m) => `${m.rounds}`).join('/')} rounds of product and baseline; collector and bridge with their defaults (LIVE_BATCH_SIZE 1000, LIVE_BATCH_TIMEOUT 1 s; the bridge writes a lane as soon as the stream has nothing more pending)`,
        `latency = time the row was first seen by a poll of market_ticks (every 10 ms) − the quote's time (Polygon t), so it includes up to ${SIMULATOR_BATCH_MS} ms of simulator batching and up to one poll`,
        `bridge CPU per tick: the bridge process's CPU over the window and its drain ÷ ticks stored in the window (includes its idle work: pulls, metrics, timers)`,
        `product rounds: ${measured.map(roundsText).join(' | ')} (fewer stored than expected: the simulator skipped slots or ticks were still in flight)`,
      ],
      details: {
        seconds,
        warmupMs,
        rates: measured.map((m) => ({ rate: m.rate, product: m.product, baseline: m.baseline })),
      },
    };
  } finally {
    await resources.closeAll();
  }
}

export const e2eLatency: Benchmark = { id: 'e2e-latency', title: 'End-to-end latency', run };
