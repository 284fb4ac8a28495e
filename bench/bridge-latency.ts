// Tick latency (publish → visible in PostgreSQL) and writes per second of the bridge at a
// steady tick rate, for several LIVE_BATCH_TIMEOUT values: the other side of the batch
// trade-off (bridge-batch-size.ts measures the write cost).
//
// Run:  npx tsc -p tsconfig.json --noEmit false --outDir dist/all \
//         && node dist/all/bench/bridge-latency.js [ticksPerSecond=100] [seconds=15]
import '../test/support/load-test-env.js';
import { bridgeEnv, migrateInto, natsClient, startInProcess } from '../test/support/bridge-harness.js';
import { createTestDatabases } from '../test/support/databases.js';
import { makeTick, tickOutgoing } from '../test/support/market-messages.js';
import { startPrivateNats } from '../test/support/private-nats.js';

const rate = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 15);
const TIMEOUTS = ['0.5', '1', '2', '5'];

const nats = await startPrivateNats();
const dbs = await createTestDatabases();
const client = await natsClient(nats);
try {
  await migrateInto(dbs.env);
  console.log(
    `${rate} ticks/s for ${seconds} s per run; latency = publish → row visible (polled every 20 ms)`,
  );
  console.log(
    `${'timeout s'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'writes/s'.padStart(9)}`,
  );
  let base = Date.now() - 86_400_000;
  for (const timeout of TIMEOUTS) {
    const b = await startInProcess(
      bridgeEnv(nats, dbs.env, {
        LIVE_BATCH_SIZE: '1000',
        LIVE_BATCH_TIMEOUT: timeout,
        BRIDGE_ACK_WAIT: '30',
      }),
    );
    const publishedAt = new Map<number, number>();
    const latencies: number[] = [];
    const total = rate * seconds;
    const t0 = base;
    base += total + 1;
    const poller = (async () => {
      let seen = t0 - 1;
      while (latencies.length < total) {
        const r = await dbs.pg.query<{ ms: string }>(
          'SELECT timestamp_ms AS ms FROM market_ticks WHERE timestamp_ms > $1 AND timestamp_ms < $2',
          [seen, t0 + total],
        );
        const now = Date.now();
        for (const row of r.rows) {
          const ms = Number(row.ms);
          latencies.push(now - publishedAt.get(ms)!);
          seen = Math.max(seen, ms);
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const start = Date.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      if (due > Date.now()) await new Promise((res) => setTimeout(res, due - Date.now()));
      publishedAt.set(t0 + i, Date.now());
      await client.publish([tickOutgoing(makeTick({ timestamp_ms: t0 + i }))]);
    }
    await poller;
    const histogram = await b.registry.getSingleMetric('market_pipeline_bridge_batch_size')!.get();
    const writes = histogram.values.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'market_pipeline_bridge_batch_size_count' &&
        v.labels.lane === 'ticks',
    )!.value;
    await b.bridge.stop();
    latencies.sort((x, y) => x - y);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
    console.log(
      `${timeout.padStart(9)} ${String(pct(0.5)).padStart(7)} ${String(pct(0.99)).padStart(7)} ${String(latencies.at(-1)).padStart(7)} ${(writes / seconds).toFixed(2).padStart(9)}`,
    );
  }
} finally {
  await client.close();
  await nats.close();
  await dbs.drop();
}
