// The bridge as the image runs it (`node bin/market-pipeline.js bridge`, built into dist/),
// killed the hard way and the polite way: SIGKILL mid-stream loses and doubles nothing,
// SIGTERM writes and acks the batches it holds before exiting 0.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { STREAMS } from '../contracts/subjects.js';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  natsClient,
  tickCount,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { ensureBuilt, startCli, type CliProcess } from '../../../test/support/built-cli.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { barOutgoing, makeBar, makeTick, tickOutgoing } from '../../../test/support/market-messages.js';
import { freePort, startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { waitFor } from '../../../test/support/wait.js';
import { TIMEFRAME_MS } from '../contracts/timeframes.js';

// jest.config.js sets testTimeout inside the integration project, where Jest ignores it.
jest.setTimeout(180_000);

const HOUR = 3_600_000;

describe('bridge process', () => {
  let nats: PrivateNats;
  let dbs: TestDatabases;
  let client: NatsClient;

  const consumerState = async (kind: 'ticks' | 'bars') => {
    const stream = kind === 'ticks' ? STREAMS.ticks.name : STREAMS.bars.name;
    const info = await client.jsm.consumers.info(stream, `bridge-${kind}`);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  };

  const scrape = async (port: number, pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => pattern.test(l));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  const waitReady = (port: number) =>
    waitFor(
      '/readyz 200',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status,
      (status) => status === 200,
    );

  beforeAll(async () => {
    nats = await startPrivateNats();
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
    client = await natsClient(nats);
    await ensureBuilt();
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await nats?.close();
    await dbs?.drop();
  });

  it('SIGKILL in the middle of batches, then a restart: no tick lost, none doubled', async () => {
    const port = await freePort();
    const env = bridgeEnv(nats, dbs.env, {
      LIVE_BATCH_SIZE: '200',
      LIVE_BATCH_TIMEOUT: '0.5',
      HISTORICAL_BATCH_TIMEOUT: '0.5',
      BRIDGE_ACK_WAIT: '2', // a killed replica's messages come back after 2 s
      METRICS_PORT: String(port),
    });
    const t0 = Date.now() - 2 * HOUR;
    let published = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const chunk = Array.from({ length: 250 }, (_, i) =>
          makeTick({
            symbol: 'EUR/CHF',
            bid: 0.94,
            ask: 0.9402,
            mid: 0.9401,
            timestamp_ms: t0 + published + i,
          }),
        );
        await client.publish(chunk.map(tickOutgoing));
        published += chunk.length;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const first = startCli(['bridge'], env);
    let second: CliProcess | undefined;
    try {
      await waitReady(port);
      await waitFor(
        'the first batches',
        () => tickCount(dbs),
        (n) => n >= 1000,
      );
      // Kill it in the middle of a batch for certain: writes wait on a table lock (reads
      // go on), so the bridge holds pulled, unacked messages when it dies. A bridge that
      // keeps up with the publisher would otherwise often be between batches.
      const lock = await dbs.pg.connect();
      try {
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE market_ticks IN SHARE ROW EXCLUSIVE MODE');
        await waitFor(
          'a batch waiting at the lock',
          async () => (await consumerState('ticks')).ackPending,
          (n) => n > 0,
        );
        first.child.kill('SIGKILL');
        expect(await first.exited).toBeNull(); // killed by the signal, no exit code
        const atKill = await consumerState('ticks');
        // Messages were delivered to the killed process and not acked: the middle of a batch.
        expect(atKill.ackPending).toBeGreaterThan(0);
        expect(await tickCount(dbs)).toBeLessThan(published);
      } finally {
        await lock.query('ROLLBACK');
        lock.release();
      }

      second = startCli(['bridge'], env); // the restarted pod
      await waitReady(port);
      await new Promise((r) => setTimeout(r, 1000)); // keep publishing across the restart
      publishing = false;
      await publisher;

      await waitFor(
        'every published tick',
        () => tickCount(dbs),
        (n) => n >= published,
        60_000,
      );
      expect(await tickCount(dbs)).toBe(published);
      const distinct = await dbs.pg.query('SELECT count(DISTINCT timestamp_ms)::int AS n FROM market_ticks');
      expect(distinct.rows[0].n).toBe(published);
      await waitFor(
        'all acked',
        () => consumerState('ticks'),
        (s) => s.pending === 0 && s.ackPending === 0,
      );
    } finally {
      publishing = false;
      await publisher;
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      await second?.exited;
    }
  });

  it('SIGTERM writes and acks the batches it holds, then exits 0', async () => {
    const port = await freePort();
    const env = bridgeEnv(nats, dbs.env, {
      // Batches that would wait a minute: only the shutdown flush can write them in time.
      LIVE_BATCH_SIZE: '100000',
      LIVE_BATCH_TIMEOUT: '60',
      HISTORICAL_BATCH_TIMEOUT: '60',
      BRIDGE_DRAINED_LINGER: '60', // nor once the stream is drained
      BRIDGE_ACK_WAIT: '120',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
    });
    const bridge = startCli(['bridge'], env);
    try {
      await waitReady(port);
      const t0 = Date.now() - HOUR;
      const before = await tickCount(dbs);
      await client.publish(
        Array.from({ length: 500 }, (_, i) =>
          tickOutgoing(
            makeTick({ symbol: 'EUR/GBP', bid: 0.85, ask: 0.8502, mid: 0.8501, timestamp_ms: t0 + i }),
          ),
        ),
      );
      const barStart = Math.floor(t0 / TIMEFRAME_MS['1h']) * TIMEFRAME_MS['1h'] - 30 * TIMEFRAME_MS['1h'];
      await client.publish(
        Array.from({ length: 20 }, (_, i) =>
          barOutgoing(
            makeBar({
              symbol: 'EUR/GBP',
              timeframe: '1h',
              open: 0.85,
              high: 0.851,
              low: 0.849,
              close: 0.8505,
              vwap: 0.85,
              timestamp_ms: barStart + i * TIMEFRAME_MS['1h'],
            }),
          ),
        ),
      );
      await waitFor(
        'all received',
        async () => [
          await scrape(port, /^market_pipeline_bridge_messages_received_total\{kind="tick"/),
          await scrape(port, /^market_pipeline_bridge_messages_received_total\{kind="bar"/),
        ],
        ([t, b]) => t === 500 && b === 20,
      );
      expect(await tickCount(dbs)).toBe(before); // held in a batch, not written yet
      expect((await consumerState('ticks')).ackPending).toBe(500);

      bridge.child.kill('SIGTERM');
      expect(await bridge.exited).toBe(0);
    } finally {
      bridge.child.kill('SIGKILL');
    }
    expect(bridge.lines.join('\n')).toContain('bridge stopped: in-flight batches written and acked');
    expect(await tickCount(dbs, "symbol = 'EUR/GBP'")).toBe(500);
    const bars = await chRows<{ n: number }>(
      dbs,
      "SELECT toUInt32(count()) AS n FROM aggregates FINAL WHERE symbol = 'EUR/GBP'",
    );
    expect(bars).toEqual([{ n: 20 }]);
    expect(await consumerState('ticks')).toEqual({ pending: 0, ackPending: 0 });
    expect(await consumerState('bars')).toEqual({ pending: 0, ackPending: 0 });
  });
});
