// 5. Memory: RSS of the collector and the bridge while the pipeline carries a steady
// 10,000 ticks/s (simulator → collector → NATS → bridge → PostgreSQL) for the soak length
// (--soak-seconds, 300 by default), sampled every second; the baseline is the same process
// idle (connected and ready, nothing flowing). "Flat" compares the RSS early in the soak
// with the RSS at its end, the first fifth left out as warm-up (JIT, pools, buffers).
import type { Workload } from './lib/processes.js';
import { startCollectorProcess, startLivePipeline } from './lib/pipeline.js';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { freshDatabases, privateNats, Resources, type BenchNats } from './lib/fixtures.js';
import { LatencyProbe } from './lib/latency.js';
import { sleep, startWorkload } from './lib/processes.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { distribution, median, slope } from './lib/stats.js';
import { SYMBOLS } from './lib/ticks.js';
import { RATE, startTenThousandPerSecond } from './e2e-latency.js';
import type { TestDatabases } from '../test/support/databases.js';

const IDLE_SETTLE_MS = 3000;
/** RSS growth over the soak that still counts as flat (GC heaps breathe by a few MB). */
const FLAT_MB = 10;

interface Samples {
  atS: number[];
  collectorMb: number[];
  bridgeMb: number[];
}

interface Growth {
  earlyMb: number;
  lateMb: number;
  growthMb: number;
  slopeMbPerMin: number;
}

function growth(atS: number[], mb: number[]): Growth {
  const n = mb.length;
  const fifth = Math.max(1, Math.floor(n / 5));
  const steadyAt = atS.slice(fifth);
  const steady = mb.slice(fifth);
  const earlyMb = median(mb.slice(fifth, 2 * fifth));
  const lateMb = median(mb.slice(n - fifth));
  return { earlyMb, lateMb, growthMb: lateMb - earlyMb, slopeMbPerMin: slope(steadyAt, steady) * 60 };
}

/** RSS of a process ready and idle: the bridge with nothing to pull, the collector on a symbol nobody quotes. */
async function idleRss(start: () => Promise<Workload>): Promise<number> {
  const w = await start();
  try {
    await w.waitReady();
    await sleep(IDLE_SETTLE_MS);
    return w.memory().rssMb;
  } finally {
    await w.stop();
  }
}

async function idleBaselines(nats: BenchNats, dbs: TestDatabases, wsUrl: string) {
  const bridge = await idleRss(() =>
    startWorkload(['bridge'], { name: 'bridge-idle', env: { ...dbs.env, NATS_URL: nats.url } }),
  );
  const collector = await idleRss(() =>
    startCollectorProcess({ natsUrl: nats.url, wsUrl, symbols: ['USD/SEK'] }),
  );
  return { bridge, collector };
}

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    const simulator = await startTenThousandPerSecond();
    resources.add('stop the simulator', () => simulator.stop());
    const idle = await idleBaselines(nats, dbs, simulator.wsUrl);
    o.log(`idle RSS: collector ${idle.collector.toFixed(0)} MB, bridge ${idle.bridge.toFixed(0)} MB`);

    const pipeline = await startLivePipeline(nats.url, dbs.env, simulator, SYMBOLS, o.profileDir);
    const samples: Samples = { atS: [], collectorMb: [], bridgeMb: [] };
    let peaks = { collector: 0, bridge: 0 };
    let latency;
    try {
      const started = Date.now();
      const probe = new LatencyProbe(dbs.pg, started + 2000, started + o.soakSeconds * 1000);
      probe.start();
      while (Date.now() - started < o.soakSeconds * 1000) {
        await sleep(1000);
        samples.atS.push((Date.now() - started) / 1000);
        samples.collectorMb.push(pipeline.collector.memory().rssMb);
        samples.bridgeMb.push(pipeline.bridge.memory().rssMb);
        if (samples.atS.length % 30 === 0) {
          o.log(
            `${samples.atS.at(-1)!.toFixed(0)} s: collector ${samples.collectorMb.at(-1)!.toFixed(0)} MB, bridge ${samples.bridgeMb.at(-1)!.toFixed(0)} MB`,
          );
        }
      }
      peaks = { collector: pipeline.collector.memory().peakMb, bridge: pipeline.bridge.memory().peakMb };
      const result = await probe.finish(Date.now() + 15_000);
      latency = { ...distribution(result.latencies), stored: result.stored, unobserved: result.unobserved };
    } finally {
      await pipeline.stop();
    }

    const c = growth(samples.atS, samples.collectorMb);
    const b = growth(samples.atS, samples.bridgeMb);
    const rows: ResultRow[] = [
      {
        measure: `collector peak RSS at ${RATE.toLocaleString('en-US')} ticks/s`,
        unit: 'MB',
        product: peaks.collector,
        baseline: idle.collector,
        baselineName: 'idle',
        ratio: peaks.collector / idle.collector,
        target: '≤ 150 MB',
        met: peaks.collector <= 150,
      },
      {
        measure: `bridge peak RSS at ${RATE.toLocaleString('en-US')} ticks/s`,
        unit: 'MB',
        product: peaks.bridge,
        baseline: idle.bridge,
        baselineName: 'idle',
        ratio: peaks.bridge / idle.bridge,
        target: '≤ 300 MB',
        met: peaks.bridge <= 300,
      },
      {
        measure: `collector RSS growth over a ${o.soakSeconds} s soak (${c.slopeMbPerMin.toFixed(2)} MB/min)`,
        unit: 'MB',
        product: c.growthMb,
        target: `flat (≤ ${FLAT_MB} MB)`,
        met: c.growthMb <= FLAT_MB,
      },
      {
        measure: `bridge RSS growth over a ${o.soakSeconds} s soak (${b.slopeMbPerMin.toFixed(2)} MB/min)`,
        unit: 'MB',
        product: b.growthMb,
        target: `flat (≤ ${FLAT_MB} MB)`,
        met: b.growthMb <= FLAT_MB,
      },
      { measure: `latency p99 over the soak`, unit: 'ms', product: latency?.p99 ?? Number.NaN },
    ];
    return {
      id: 'memory',
      title: `Memory: collector and bridge at ${RATE.toLocaleString('en-US')} ticks/s for ${o.soakSeconds} s`,
      rows,
      notes: [
        `RSS from /proc every second; peak = VmHWM; idle = the same process ready with nothing flowing (bridge: empty streams; collector: subscribed to a symbol the simulator does not quote), ${IDLE_SETTLE_MS / 1000} s after ready`,
        `growth = median RSS of the last fifth of the soak − median of the second fifth (the first fifth is warm-up); slope by least squares after the warm-up`,
        `soak latency: ${latency ? `p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms over ${latency.count} ticks` : 'n/a'}`,
      ],
      details: { idle, peaks, collector: c, bridge: b, samples, latency },
    };
  } finally {
    await resources.closeAll();
  }
}

export const memory: Benchmark = { id: 'memory', title: 'Memory under load and soak', run };
