// A first backfill run over two years (BACKFILL_WINDOW_DAYS=730, all seven timeframes) with
// the simulator as Polygon (no rate limit), the bridge in-process writing to fresh test
// databases, then a second run at the same instant that must find nothing: it times gap
// detection over the recent days, and a third with --from two years ago that times gap
// detection over the whole window (~150k expected 5-minute bars per symbol). Prints wall
// times, requests, bars and the peak RSS of this process (simulator, bridge and backfill).
//
// Run:  npx tsc -p tsconfig.json --noEmit false --outDir dist/all \
//         && set -a && . .test-env/env && set +a && BENCH_SYMBOLS=EUR/USD node dist/all/bench/backfill-first-run.js
import '../test/support/load-test-env.js';
import { pino } from 'pino';
import { bridgeEnv, chRows, migrateInto, startInProcess } from '../test/support/bridge-harness.js';
import { createTestDatabases } from '../test/support/databases.js';
import { startPrivateNats } from '../test/support/private-nats.js';
import { startTestSimulator, TEST_API_KEY } from '../test/support/simulator.js';
import { waitFor } from '../test/support/wait.js';
import { run } from '../workloads/src/commands/backfill.js';

const symbols = process.env.BENCH_SYMBOLS ?? 'EUR/USD';
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);

const nats = await startPrivateNats();
const dbs = await createTestDatabases();
try {
  await migrateInto(dbs.env);
  const bridge = await startInProcess(
    bridgeEnv(nats, dbs.env, { HISTORICAL_BATCH_SIZE: '5000', HISTORICAL_BATCH_TIMEOUT: '1' }),
  );
  const sim = await startTestSimulator();
  const env = {
    ...dbs.env,
    NATS_URL: nats.url,
    SYMBOLS: symbols,
    POLYGON_REST_URL: sim.restUrl,
    POLYGON_API_KEY: TEST_API_KEY,
    POLYGON_REST_REQUESTS_PER_MINUTE: '60000',
    BACKFILL_WINDOW_DAYS: '730',
    LOG_LEVEL: 'info',
  };
  const nowMs = Date.now();
  const once = async (label: string, args: string[] = []) => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const started = performance.now();
    const code = await run(args, env, { log, nowMs });
    const seconds = (performance.now() - started) / 1000;
    const summary = lines.find((l) => String(l.msg).startsWith('backfill done')) ?? lines.at(-1);
    console.log(`${label}: exit ${code} in ${seconds.toFixed(1)} s; ${String(summary?.msg)}`);
    return summary as { barsPublished: number };
  };
  const first = await once('first run');
  const started = performance.now();
  await waitFor(
    'bridge stored every bar',
    async () => Number((await chRows<{ n: string }>(dbs, 'SELECT count() AS n FROM aggregates'))[0]!.n),
    (n) => n >= first.barsPublished,
    30 * 60_000,
    1000,
  );
  console.log(
    `bridge caught up ${((performance.now() - started) / 1000).toFixed(1)} s after the first run ended (${first.barsPublished} bars)`,
  );
  await once('second run (recent days only)');
  const from = new Date(nowMs - 730 * 86_400_000).toISOString();
  await once('third run, --from two years ago (gap detection over the whole window)', ['--from', from]);
  console.log(`peak RSS of this process: ${Math.round(peakRss / 1024 / 1024)} MiB`);
  await bridge.bridge.stop();
  await sim.close();
} finally {
  clearInterval(sampler);
  await nats.close();
  await dbs.drop();
}
