// 8. The latest-quote cache on the bridge's ack path: a stream pre-filled with N ticks is
// drained into market_ticks by one bridge (as bridge-ingest does: table locked while it
// starts, timed from the release to the last ack), three ways in rotating order: without a
// cache (the baseline), with the cache up (a redis-server of the benchmark's own), and with
// the cache configured but down (a closed port). The claim it checks: the cache never slows
// the database writes, even while it is away.
import { freePort } from '../test/support/private-nats.js';
import { cacheClient, startPrivateRedis } from '../test/support/private-redis.js';
import { tickKey, type CachedTick } from '../workloads/src/cache/keys.js';
import { bySize, type Benchmark, type BenchOptions } from './lib/benchmark.js';
import { drainTicks, type DrainRun } from './lib/bridge.js';
import { freshDatabases, privateNats, publishAll, Resources } from './lib/fixtures.js';
import type { BenchmarkResult, ResultRow } from './lib/report.js';
import { median, rotate } from './lib/stats.js';
import { benchQuotes, SYMBOLS, tickMessages } from './lib/ticks.js';

async function run(o: BenchOptions): Promise<BenchmarkResult> {
  const total = bySize(o.size, { tiny: 3_000, quick: 50_000, full: 200_000 });
  const resources = new Resources();
  try {
    const nats = await privateNats(resources);
    const dbs = await freshDatabases(resources);
    const cache = await startPrivateRedis();
    resources.add('stop the private redis-server', () => cache.close());
    const redis = await cacheClient(cache.env);
    resources.add('close the cache client', async () => redis.disconnect());
    const down = { ...cache.env, DRAGONFLYDB_PORT: String(await freePort()) };
    const quotes = benchQuotes(total, SYMBOLS);
    o.log(`pre-filling MARKET_TICKS with ${total} ticks`);
    await publishAll(nats.nc, tickMessages(quotes));
    const newest = Math.max(...quotes.filter((q) => q.symbol === 'EUR/USD').map((q) => q.timestampMs));

    const drain = async (env: Record<string, string>): Promise<DrainRun> => {
      await dbs.pg.query('TRUNCATE market_ticks');
      return drainTicks(nats, dbs, total, 1, { profileDir: o.profileDir, timeoutMs: 600_000, env });
    };
    const sides = await rotate<DrainRun>(
      o.rounds,
      {
        none: () => drain({}),
        up: async () => {
          await redis.flushall();
          const r = await drain(cache.env);
          // The bridge stopped after its last ack; its cache writer sent the newest values first.
          const cached = await redis.hget(tickKey('system', 'EUR/USD'), 'v');
          const t = cached === null ? undefined : (JSON.parse(cached) as CachedTick).timestamp_ms;
          if (t !== newest) throw new Error(`cache holds EUR/USD at ${t}, expected ${newest}`);
          return r;
        },
        down: () => drain(down),
      },
      o.log,
    );
    const rate = (side: DrainRun[]) => median(side.map((r) => r.rate));
    const cpu = (side: DrainRun[]) => median(side.map((r) => total / r.bridgeCpuSeconds));
    const [none, up, away] = [rate(sides.none!), rate(sides.up!), rate(sides.down!)];
    const rounds = (side: DrainRun[]) => side.map((r) => r.rate);
    const rows: ResultRow[] = [
      {
        measure: 'ticks NATS → market_ticks, acked, cache up',
        unit: 'ticks/s',
        product: up,
        baseline: none,
        baselineName: 'no cache',
        ratio: up / none,
        rounds: { product: rounds(sides.up!), baseline: rounds(sides.none!) },
      },
      {
        measure: 'ticks NATS → market_ticks, acked, cache configured but down',
        unit: 'ticks/s',
        product: away,
        baseline: none,
        baselineName: 'no cache',
        ratio: away / none,
        rounds: { product: rounds(sides.down!), baseline: rounds(sides.none!) },
      },
      {
        measure: 'ticks per bridge CPU-second, cache up',
        unit: 'ticks/s',
        product: cpu(sides.up!),
        baseline: cpu(sides.none!),
        baselineName: 'no cache',
        ratio: cpu(sides.up!) / cpu(sides.none!),
      },
    ];
    return {
      id: 'cache-overhead',
      title: 'Latest-quote cache: bridge ingest with the cache up, down, and without one',
      rows,
      notes: [
        `${total} ticks of ${SYMBOLS.length} symbols, ${o.rounds} rounds of each side in rotating order; one bridge; cache: redis-server 7 on loopback`,
        `bridge CPU per tick with the cache down: ${median(sides.down!.map((r) => (r.bridgeCpuSeconds * 1e6) / total)).toFixed(1)} µs`,
      ],
      details: { none: sides.none, up: sides.up, down: sides.down },
    };
  } finally {
    await resources.closeAll();
  }
}

export const cacheOverhead: Benchmark = {
  id: 'cache-overhead',
  title: 'Latest-quote cache: bridge ingest with the cache up, down, and without one',
  run,
};
