// Write cost per batch size for the bridge's two writers, against the test servers, in
// fresh databases with the real schema. It informs LIVE_/HISTORICAL_BATCH_SIZE: the cost
// per row falls with the batch size until the statement's fixed cost no longer dominates.
//
// Run:  npx tsc -p tsconfig.json --noEmit false --outDir dist/all \
//         && set -a && . .test-env/env && set +a && node dist/all/bench/bridge-batch-size.js
import '../test/support/load-test-env.js';
import { createTestDatabases } from '../test/support/databases.js';
import { migrateInto } from '../test/support/bridge-harness.js';
import { makeBar, makeTick } from '../test/support/market-messages.js';
import { barRow, tickRow } from '../workloads/src/bridge/rows.js';
import { barWriter, tickWriter } from '../workloads/src/bridge/writers.js';
import { TIMEFRAME_MS } from '../workloads/src/contracts/timeframes.js';

const SIZES = [1, 10, 100, 500, 1000, 2000, 5000, 10000];
const ROWS_PER_SIZE = 20_000; // the same number of rows at every size (at least 3 writes)

async function measure(name: string, write: (offset: number, n: number) => Promise<void>): Promise<void> {
  console.log(
    `\n${name}\n${'batch'.padStart(7)} ${'writes'.padStart(7)} ${'ms/write p50'.padStart(13)} ${'rows/s'.padStart(9)}`,
  );
  let offset = 0;
  for (const size of SIZES) {
    const writes = Math.max(3, Math.ceil(ROWS_PER_SIZE / size / (size < 100 ? 10 : 1)));
    const times: number[] = [];
    const started = performance.now();
    for (let w = 0; w < writes; w++) {
      const t = performance.now();
      await write(offset, size);
      times.push(performance.now() - t);
      offset += size;
    }
    const total = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(times.length / 2)]!;
    console.log(
      `${String(size).padStart(7)} ${String(writes).padStart(7)} ${p50.toFixed(1).padStart(13)} ${Math.round(
        (writes * size) / total,
      )
        .toString()
        .padStart(9)}`,
    );
  }
}

const dbs = await createTestDatabases();
try {
  await migrateInto(dbs.env);
  const ticks = tickWriter(dbs.pg);
  const t0 = Date.now() - 86_400_000;
  await measure('PostgreSQL market_ticks (unnest, ON CONFLICT DO NOTHING)', async (offset, n) => {
    const rows = Array.from({ length: n }, (_, i) =>
      tickRow(makeTick({ timestamp_ms: t0 + offset + i }), 'system'),
    );
    await ticks.write(rows);
  });
  const bars = barWriter(dbs.ch);
  const b0 = Math.floor((Date.now() - 5 * 365 * 86_400_000) / TIMEFRAME_MS['5m']) * TIMEFRAME_MS['5m'];
  await measure(
    'ClickHouse aggregates (JSONEachRow insert; test server is chDB behind HTTP)',
    async (offset, n) => {
      const rows = Array.from({ length: n }, (_, i) =>
        barRow(
          makeBar({ timestamp_ms: b0 + (offset + i) * TIMEFRAME_MS['5m'], source: 'polygon_historical' }),
          'system',
        ),
      );
      await bars.write(rows);
    },
  );
} finally {
  await dbs.drop();
}
