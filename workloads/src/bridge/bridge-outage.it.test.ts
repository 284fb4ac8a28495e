// PostgreSQL goes away while the bridge runs (a PostgreSQL cluster of this test's own,
// stopped and started with pg_ctl): the bridge holds its batch without acking it, keeps
// the server from redelivering it, stops pulling, reports not-ready and the age of its
// oldest unacknowledged message, and when PostgreSQL returns it writes everything: nothing lost.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { STREAMS } from '../contracts/subjects.js';
import {
  bridgeEnv,
  migrateInto,
  natsClient,
  startInProcess,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import { makeTick, tickOutgoing } from '../../../test/support/market-messages.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { startPrivatePostgres, type PrivatePostgres } from '../../../test/support/private-postgres.js';
import { waitFor } from '../../../test/support/wait.js';

// jest.config.js sets testTimeout inside the integration project, where Jest ignores it.
jest.setTimeout(180_000);

describe('bridge during a PostgreSQL outage', () => {
  let nats: PrivateNats;
  let postgres: PrivatePostgres;
  let dbs: TestDatabases; // for its ClickHouse database
  let client: NatsClient;
  let env: Record<string, string>;
  let pool: pg.Pool;

  beforeAll(async () => {
    nats = await startPrivateNats();
    postgres = await startPrivatePostgres();
    dbs = await createTestDatabases();
    env = {
      ...dbs.env,
      TIMESCALEDB_HOST: postgres.host,
      TIMESCALEDB_PORT: String(postgres.port),
      TIMESCALEDB_USER: postgres.user,
      TIMESCALEDB_PASSWORD: postgres.password,
      TIMESCALEDB_DATABASE: postgres.database,
    };
    await migrateInto(env);
    client = await natsClient(nats);
    pool = new pg.Pool({
      host: postgres.host,
      port: postgres.port,
      user: postgres.user,
      password: postgres.password,
      database: postgres.database,
    });
    pool.on('error', () => undefined);
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await client?.close();
    await nats?.close();
    postgres?.close();
    await dbs?.drop();
  });

  it('holds the batch unacked while PostgreSQL is down, then writes everything', async () => {
    const b = await startInProcess(bridgeEnv(nats, env, { LIVE_BATCH_SIZE: '100', BRIDGE_ACK_WAIT: '3' }));
    const count = async () =>
      (await pool.query('SELECT count(*)::int AS n FROM market_ticks')).rows[0].n as number;
    const consumer = () => client.jsm.consumers.info(STREAMS.ticks.name, 'bridge-ticks');
    const notReady = () => b.bridge.readiness.map((r) => r.check()).filter((why) => why !== undefined);
    const t0 = Date.now() - 3_600_000;
    const ticks = Array.from({ length: 600 }, (_, i) =>
      makeTick({ symbol: 'EUR/JPY', bid: 160.1, ask: 160.12, mid: 160.11, timestamp_ms: t0 + i }),
    );
    try {
      await client.publish(ticks.slice(0, 150).map(tickOutgoing));
      await waitFor('the first ticks', count, (n) => n === 150);
      await waitFor('ready', notReady, (why) => why.length === 0);

      postgres.stop();
      await client.publish(ticks.slice(150).map(tickOutgoing));
      await waitFor(
        'failed writes',
        () =>
          b.metric('market_pipeline_bridge_write_failures_total', {
            database: 'postgres',
            cause: 'unavailable',
          }),
        (n) => n >= 2,
      );
      await waitFor('not ready', notReady, (why) => why.some((w) => w.startsWith('postgres: ')));
      // Longer than ack_wait (3 s): working() keeps the held batch from being redelivered.
      await new Promise((r) => setTimeout(r, 4_000));
      const during = await consumer();
      expect(during.num_redelivered).toBe(0);
      // Backpressure: the batches being written (BRIDGE_WRITE_CONCURRENCY, 2 by default) plus
      // at most one full batch pulled meanwhile; the rest (450 - 300) stays in the stream,
      // not pulled into memory.
      expect(during.num_ack_pending).toBeGreaterThan(0);
      expect(during.num_ack_pending).toBeLessThanOrEqual(3 * 100);
      expect(during.num_pending).toBeGreaterThanOrEqual(150);
      expect(await b.metric('market_pipeline_bridge_messages_acked_total')).toBe(150);
      expect(await b.metric('market_pipeline_bridge_database_up', { database: 'postgres' })).toBe(0);
      // The held ticks age: the oldest unacknowledged one was published before the outage's
      // 4 s wait, so the monitor (polling every few seconds) reports it older than that.
      const age = () =>
        b.metric('market_pipeline_bridge_oldest_unacked_age_seconds', { consumer: 'bridge-ticks' });
      await waitFor('the oldest unacked tick to age', age, (s) => s >= 4, 15_000);

      postgres.start();
      await waitFor('every tick', count, (n) => n === 600, 60_000);
      await waitFor('all acked', consumer, (c) => c.num_pending === 0 && c.num_ack_pending === 0);
      await waitFor('ready again', notReady, (why) => why.length === 0);
      await waitFor('nothing left waiting', age, (s) => s === 0, 15_000);
      expect(
        await b.metric('market_pipeline_bridge_write_retries_total', { database: 'postgres' }),
      ).toBeGreaterThan(0);
      expect(await b.metric('market_pipeline_bridge_messages_acked_total')).toBe(600);
    } finally {
      await b.bridge.stop();
    }
  });
});
