// 6. Bridge scaling: 1, 2 and 3 bridge replicas draining the same pre-filled tick stream
// through the shared durable consumer, the replica counts alternating in order round by
// round (1-2-3, then 3-2-1). The baseline of each count is one replica in the same rounds.
// On a machine with fewer cores than processes this shows contention, not scaling.
import os from 'node:os';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { drainTicks, type DrainRun } from './lib/bridge.js';
import { freshDatabases, privateNats, publishAll, Resources } from './lib/fixtures.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { median } from './lib/stats.js';
import { benchQuotes, SYMBOLS, tickMessages } from './lib/ticks.js';
import { tickCount } from '../test/support/bridge-harness.js';

const REPLICAS = [1, 2, 3] as const;

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const ticks = bySize(o.size, { tiny: 3_000, quick: 50_000, full: 200_000 });
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    o.log(`pre-filling MARKET_TICKS with ${ticks} ticks`);
    await publishAll(nats.nc, tickMessages(benchQuotes(ticks, SYMBOLS)));

    const runs = new Map<number, DrainRun[]>(REPLICAS.map((r) => [r, []]));
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? REPLICAS : [...REPLICAS].reverse();
      for (const replicas of order) {
        await dbs.pg.query('TRUNCATE market_ticks');
        const r = await drainTicks(nats, dbs, ticks, replicas, {
          profileDir: o.profileDir,
          timeoutMs: 600_000,
        });
        const stored = await tickCount(dbs);
        if (stored !== ticks)
          throw new Error(`${replicas} replicas stored ${stored} ticks, expected ${ticks}`);
        runs.get(replicas)!.push(r);
        o.log(`round ${round + 1}/${o.rounds} ${replicas} replica(s): ${JSON.stringify(r)}`);
      }
    }

    const rateOf = (replicas: number) => median(runs.get(replicas)!.map((r) => r.rate));
    const one = rateOf(1);
    const rows: ResultRow[] = REPLICAS.map((replicas) => {
      const rate = rateOf(replicas);
      const perRun = runs.get(replicas)!.map((r) => r.rate);
      return replicas === 1
        ? { measure: '1 replica', unit: 'ticks/s', product: rate, rounds: { product: perRun } }
        : {
            measure: `${replicas} replicas`,
            unit: 'ticks/s',
            product: rate,
            baseline: one,
            baselineName: '1 replica',
            ratio: rate / one,
            rounds: { product: perRun, baseline: runs.get(1)!.map((r) => r.rate) },
          };
    });
    return {
      id: 'bridge-scaling',
      title: 'Bridge replicas on one stream',
      rows,
      notes: [
        `${ticks} ticks per run, ${o.rounds} rounds; replicas share the durable consumer bridge-ticks; timed as in bridge-ingest (all replicas hold a first batch, then the clock runs until every tick is acked)`,
        `${os.cpus().length} cores for the replicas, nats-server and PostgreSQL together: more replicas than cores compete for them`,
      ],
      details: {
        ticks,
        runs: Object.fromEntries(
          [...runs].map(([replicas, list]) => [
            replicas,
            list.map((r) => ({ rate: r.rate, seconds: r.seconds, bridgeCpuSeconds: r.bridgeCpuSeconds })),
          ]),
        ),
      },
    };
  } finally {
    await resources.closeAll();
  }
}

export const bridgeScaling: Benchmark = { id: 'bridge-scaling', title: 'Bridge scaling (1–3 replicas)', run };
