// The bridge in-process against real servers: a private NATS (the product's stream names),
// and PostgreSQL and ClickHouse databases of this file's own with migrate applied.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { JsMsg } from '@nats-io/jetstream';
import { barMessageId } from '../contracts/messages.js';
import { STREAMS } from '../contracts/subjects.js';
import {
  bridgeEnv,
  chRows,
  migrateInto,
  natsClient,
  quietLog,
  startInProcess,
  tickCount,
  type NatsClient,
} from '../../../test/support/bridge-harness.js';
import { createTestDatabases, type TestDatabases } from '../../../test/support/databases.js';
import {
  barOutgoing,
  encode,
  makeBar,
  makeTick,
  tickOutgoing,
} from '../../../test/support/market-messages.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { waitFor } from '../../../test/support/wait.js';
import { deleteExpiredTicks } from './retention.js';

// Recent days (UTC midnight), so that the bridge's retention (90 days) keeps the test data.
// jest.config.js sets testTimeout inside the integration project, where Jest ignores it.
jest.setTimeout(120_000);

const DAY = 86_400_000;
const daysAgo = (n: number) => Math.floor(Date.now() / DAY) * DAY - n * DAY;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('bridge', () => {
  let nats: PrivateNats;
  let dbs: TestDatabases;
  let client: NatsClient;

  beforeAll(async () => {
    nats = await startPrivateNats();
    dbs = await createTestDatabases();
    await migrateInto(dbs.env);
    client = await natsClient(nats);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await nats?.close();
    await dbs?.drop();
  });

  it('writes every tick and bar exactly once; the newest bar version wins; daily_stats stay right', async () => {
    const b = await startInProcess(bridgeEnv(nats, dbs.env));
    try {
      const t0 = daysAgo(3) + 9 * 3_600_000;
      const ticks = Array.from({ length: 300 }, (_, i) =>
        makeTick({ symbol: i % 2 ? 'GBP/USD' : 'EUR/USD', timestamp_ms: t0 + i * 10, bid: 1.08 + i / 1e5 }),
      );
      // A different quote in the same millisecond as ticks[0] is a tick of its own.
      ticks.push(makeTick({ timestamp_ms: t0, bid: 1.0801, ask: 1.0803 }));
      await client.publish(ticks.map(tickOutgoing));
      // Re-published after the server's duplicate window (new message ids): must not double.
      await client.publish(
        ticks.slice(0, 50).map((t) => ({ ...tickOutgoing(t), msgId: `again:${t.timestamp_ms}` })),
      );

      const at = (h: number, m: number) => daysAgo(3) + h * 3_600_000 + m * 60_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const first = makeBar({ timestamp_ms: at(10, 0), ingested_at: iso(at(10, 5) + 1000) });
      // Late ticks: re-aggregated later, higher high and more volume.
      const corrected = makeBar({
        ...first,
        high: 1.0858,
        close: 1.0853,
        volume: 130,
        ingested_at: iso(at(10, 6)),
      });
      const historicalSame = makeBar({
        ...first,
        source: 'polygon_historical',
        close: 1.0849,
        volume: 90,
        ingested_at: iso(Date.now()),
      });
      const historicalOnly = makeBar({
        timestamp_ms: at(10, 5),
        source: 'polygon_historical',
        open: 1.0853,
        close: 1.0851,
        volume: 80,
      });
      const last = makeBar({ timestamp_ms: at(10, 10), open: 1.0851, close: 1.0854, volume: 110 });
      await client.publish([first, corrected, historicalSame, historicalOnly, last, last].map(barOutgoing));
      // The first version again, published after the correction (a stale redelivery).
      await client.publish([{ ...barOutgoing(first), msgId: `stale:${barMessageId(first, 'system')}` }]);

      await waitFor(
        '301 ticks',
        () => tickCount(dbs),
        (n) => n === 301,
      );
      await waitFor(
        'all bar messages written',
        () => b.metric('market_pipeline_bridge_messages_written_total', { kind: 'bar' }),
        (n) => n === 6, // 7 published, one dropped by the server's duplicate window
      );
      await waitFor(
        're-published ticks seen',
        () => b.metric('market_pipeline_bridge_duplicate_ticks_total'),
        (n) => n === 50,
      );
      expect(await tickCount(dbs)).toBe(301);
      expect(
        await tickCount(dbs, "tenant_id = 'system' AND symbol = 'EUR/USD' AND time = $1", [new Date(t0)]),
      ).toBe(2);

      const bars = await chRows<{ minute: number; close: number; source: string; volume: number }>(
        dbs,
        `SELECT toMinute(timestamp) AS minute, close, source, volume FROM aggregates FINAL
          WHERE symbol = 'EUR/USD' AND timeframe = '5m' ORDER BY timestamp`,
      );
      expect(bars).toEqual([
        { minute: 0, close: 1.0853, source: 'live_aggregated', volume: 130 },
        { minute: 5, close: 1.0851, source: 'polygon_historical', volume: 80 },
        { minute: 10, close: 1.0854, source: 'live_aggregated', volume: 110 },
      ]);
      const [day] = await chRows<Record<string, unknown>>(
        dbs,
        `SELECT toUInt32(bars) AS bars, open, high, low, close, volume FROM daily_stats
          WHERE tenant_id = 'system' AND symbol = 'EUR/USD' AND timeframe = '5m' AND day = {day:Date}`,
        { day: isoDay(daysAgo(3)) },
      );
      expect(day).toEqual({ bars: 3, open: 1.085, high: 1.0858, low: 1.0848, close: 1.0854, volume: 320 });
      expect(await b.metric('market_pipeline_bridge_messages_acked_total')).toBe(351 + 6);
    } finally {
      await b.bridge.stop();
    }
  });

  it('sends bad messages to dlq.<subject> with the reason, and keeps the good ones flowing', async () => {
    const b = await startInProcess(bridgeEnv(nats, dbs.env));
    try {
      const tAt = daysAgo(2) + 9 * 3_600_000;
      const goodTicks = [0, 1, 2].map((i) =>
        makeTick({ symbol: 'USD/JPY', bid: 150.1, ask: 150.12, mid: 150.11, timestamp_ms: tAt + i }),
      );
      const goodBar = makeBar({
        symbol: 'USD/JPY',
        open: 150.1,
        high: 150.2,
        low: 150.0,
        close: 150.15,
        vwap: 150.1,
      });
      const raw = (subject: string, data: Uint8Array | string, msgId: string) => ({ subject, data, msgId });
      await client.publish([
        tickOutgoing(goodTicks[0]!),
        raw('ticks.USDJPY', '{"symbol": "USD/JPY", "bid": ', 'bad-json'),
        raw('ticks.USDJPY', encode({ ...goodTicks[0], bid: -1 }), 'bad-schema'),
        raw('ticks.USDJPY', encode(makeTick({ symbol: 'GBP/USD' })), 'bad-subject'),
        raw('ticks.USDJPY', encode(goodBar), 'bar-on-ticks'),
        tickOutgoing(goodTicks[1]!),
        // Valid by the message schema, refused by the database (exchange is an int4 column):
        // the batch is split until this one is isolated; its neighbours are written.
        tickOutgoing(makeTick({ ...goodTicks[1]!, timestamp_ms: tAt + 10, exchange: 2 ** 40 })),
        raw('bars.USDJPY.5m', encode({ ...goodBar, timeframe: '15m' }), 'bad-timeframe-subject'),
        raw('bars.USDJPY.2m', encode({ ...goodBar, timeframe: '2m' }), 'unknown-timeframe'),
        barOutgoing(goodBar),
        tickOutgoing(goodTicks[2]!),
      ]);

      await waitFor(
        'good ticks',
        () => tickCount(dbs, "symbol = 'USD/JPY'"),
        (n) => n === 3,
      );
      await waitFor(
        'the good bar',
        () => chRows(dbs, "SELECT 1 FROM aggregates FINAL WHERE symbol = 'USD/JPY'"),
        (r) => r.length === 1,
      );
      const letters = await readDeadLetters(client, 7);
      expect(letters.map((l) => [l.subject, l.reason.split(':')[0]]).sort()).toEqual(
        [
          ['dlq.bars.USDJPY.2m', 'unknown_timeframe'],
          ['dlq.bars.USDJPY.5m', 'subject_mismatch'],
          ['dlq.ticks.USDJPY', 'invalid_json'],
          ['dlq.ticks.USDJPY', 'rejected_by_database'],
          ['dlq.ticks.USDJPY', 'schema_violation'],
          ['dlq.ticks.USDJPY', 'subject_mismatch'],
          ['dlq.ticks.USDJPY', 'wrong_source'],
        ].sort(),
      );
      const mismatch = letters.find(
        (l) => l.subject === 'dlq.ticks.USDJPY' && l.reason.startsWith('subject_mismatch'),
      );
      expect(mismatch?.reason).toBe('subject_mismatch: ticks.USDJPY carries GBP/USD (expected ticks.GBPUSD)');
      expect(mismatch?.originalId).toBe('bad-subject');
      expect(
        await b.metric('market_pipeline_bridge_dead_letters_total', { reason: 'subject_mismatch' }),
      ).toBe(2);
      expect(await b.metric('market_pipeline_bridge_dead_letters_total', { kind: 'tick' })).toBe(5);
      const refused = letters.find((l) => l.reason.startsWith('rejected_by_database'));
      expect(refused?.reason).toMatch(/out of range for type integer/);
      expect(
        await b.metric('market_pipeline_bridge_write_failures_total', {
          database: 'postgres',
          cause: 'data',
        }),
      ).toBeGreaterThan(0);
      // Dead-lettered messages are terminated: nothing is left for redelivery.
      await waitFor(
        'nothing pending',
        async () => (await client.jsm.consumers.info(STREAMS.ticks.name, 'bridge-ticks')).num_ack_pending,
        (n) => n === 0,
      );
    } finally {
      await b.bridge.stop();
    }
  });

  it('shares the work between replicas on the same durable consumers, writing each tick once', async () => {
    const env = bridgeEnv(nats, dbs.env, { LIVE_BATCH_SIZE: '50' });
    const [one, two] = [await startInProcess(env), await startInProcess(env)];
    try {
      const t0 = daysAgo(1) + 9 * 3_600_000;
      const ticks = Array.from({ length: 2000 }, (_, i) =>
        makeTick({ symbol: 'AUD/USD', timestamp_ms: t0 + i }),
      );
      await client.publish(ticks.map(tickOutgoing));
      await waitFor(
        '2000 ticks',
        () => tickCount(dbs, "symbol = 'AUD/USD'"),
        (n) => n === 2000,
      );
      const received = [
        await one.metric('market_pipeline_bridge_messages_received_total'),
        await two.metric('market_pipeline_bridge_messages_received_total'),
      ];
      expect(received[0]! + received[1]!).toBe(2000);
      expect(Math.min(...received)).toBeGreaterThan(0);
    } finally {
      await Promise.all([one.bridge.stop(), two.bridge.stop()]);
    }
  });

  it('deletes ticks past retention on plain PostgreSQL, one replica at a time, in batches', async () => {
    const old = new Date(Date.now() - 100 * 86_400_000);
    const insertOld = (tenant: string, n: number) =>
      dbs.pg.query(
        `INSERT INTO market_ticks (time, tenant_id, symbol, bid, ask, mid, spread, timestamp_ms, exchange, ingested_at)
         SELECT $1::timestamptz + i * interval '1 ms', $2, 'NZD/USD', 0.6, 0.61, 0.605, 100, 0, 1, now()
           FROM generate_series(1, $3::int) AS i`,
        [old, tenant, n],
      );
    // A tenant of this test's own, so that the other tests' ticks are not involved.
    const tenant = 'retention_test';
    await insertOld(tenant, 23);
    await insertOld('other', 2);
    const recent = makeTick({
      symbol: 'NZD/USD',
      bid: 0.6,
      ask: 0.61,
      mid: 0.605,
      timestamp_ms: Date.now() - 3_600_000,
    });

    // Another session holds the lock: this replica leaves the work to it.
    const holder = await dbs.pg.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [`market_ticks_retention:${tenant}`]);
      await expect(
        deleteExpiredTicks(dbs.pg, { tenantId: tenant, retentionDays: 90 }, quietLog),
      ).resolves.toEqual({
        ran: false,
        why: 'another replica holds the lock',
      });
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [`market_ticks_retention:${tenant}`]);
    } finally {
      holder.release();
    }
    await expect(
      deleteExpiredTicks(dbs.pg, { tenantId: tenant, retentionDays: 90, batchSize: 5 }, quietLog),
    ).resolves.toEqual({
      ran: true,
      deleted: 23,
      ticks: 'deleted',
      pruned: { coverage: 0, partialBars: 0 },
    });

    // The bridge runs it on its schedule, for its tenant.
    await insertOld(tenant, 3);
    const b = await startInProcess(
      bridgeEnv(nats, dbs.env, { TENANT_ID: tenant, BRIDGE_RETENTION_INTERVAL: '0.2' }),
    );
    try {
      await client.publish([tickOutgoing(recent)]);
      await waitFor(
        'expired ticks deleted',
        () => tickCount(dbs, 'symbol = $1 AND tenant_id = $2', ['NZD/USD', tenant]),
        (n) => n === 1,
      );
      expect(await tickCount(dbs, "symbol = 'NZD/USD' AND tenant_id = 'other'")).toBe(2);
      await waitFor(
        'the deletions counted',
        () => b.metric('market_pipeline_bridge_retention_deleted_ticks_total'),
        (n) => n === 3,
      );
    } finally {
      await b.bridge.stop();
    }
  });

  it('prunes feed_coverage and aggregator_partial_bars with the ticks, per tenant, under the same lock', async () => {
    const tenant = 'retention_coverage';
    const day = 86_400_000;
    const old = Date.now() - 91 * day;
    const recent = Date.now() - 89 * day;
    const coverageRow = (t: string, segment: string, toMs: number) =>
      dbs.pg.query(
        `INSERT INTO feed_coverage (tenant_id, segment_id, piece, symbols, from_ms, to_ms, tick_seq)
         VALUES ($1, $2, $3, '{EUR/USD}', $4, $5, 1)`,
        [t, segment, Math.floor(toMs / 60_000), toMs - 30_000, toMs],
      );
    const partialRow = (t: string, startMs: number) =>
      dbs.pg.query(
        `INSERT INTO aggregator_partial_bars (tenant_id, timeframe, start_ms) VALUES ($1, '5m', $2)`,
        [t, startMs],
      );
    await coverageRow(tenant, 'old', old);
    await coverageRow(tenant, 'old-2', old - day);
    await coverageRow(tenant, 'recent', recent);
    await coverageRow('other', 'old', old);
    await partialRow(tenant, old);
    await partialRow(tenant, recent);
    await partialRow('other', old);

    // Another replica holds the lock: nothing is pruned by this one.
    const holder = await dbs.pg.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [`market_ticks_retention:${tenant}`]);
      await expect(
        deleteExpiredTicks(dbs.pg, { tenantId: tenant, retentionDays: 90 }, quietLog),
      ).resolves.toEqual({ ran: false, why: 'another replica holds the lock' });
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [`market_ticks_retention:${tenant}`]);
    } finally {
      holder.release();
    }
    const rows = async () =>
      (
        await dbs.pg.query<{ t: string; k: string }>(
          `SELECT tenant_id || ' ' || segment_id AS k, 'coverage' AS t FROM feed_coverage WHERE tenant_id IN ($1, 'other')
           UNION ALL
           SELECT tenant_id || ' ' || start_ms::text, 'partial' FROM aggregator_partial_bars WHERE tenant_id IN ($1, 'other')`,
          [tenant],
        )
      ).rows
        .map((r) => `${r.t} ${r.k}`)
        .sort();
    expect(await rows()).toHaveLength(7);

    await expect(
      deleteExpiredTicks(dbs.pg, { tenantId: tenant, retentionDays: 90 }, quietLog),
    ).resolves.toMatchObject({ ran: true, pruned: { coverage: 2, partialBars: 1 } });
    // Only this tenant's rows older than the retention went.
    expect(await rows()).toEqual(
      [
        `coverage other old`,
        `coverage ${tenant} recent`,
        `partial other ${old}`,
        `partial ${tenant} ${recent}`,
      ].sort(),
    );
  });
});

interface DeadLetter {
  subject: string;
  reason: string;
  originalId: string | undefined;
}

async function readDeadLetters(client: NatsClient, expected: number): Promise<DeadLetter[]> {
  const consumer = await client.js.consumers.get(STREAMS.dlq.name); // ordered, from the start
  const letters: DeadLetter[] = [];
  const messages = await consumer.fetch({ max_messages: expected, expires: 10_000 });
  for await (const m of messages as AsyncIterable<JsMsg>) {
    letters.push({
      subject: m.subject,
      reason: m.headers?.get('Mp-Dlq-Reason') ?? '',
      originalId: m.headers?.get('Mp-Dlq-Original-Id') || undefined,
    });
  }
  return letters;
}
