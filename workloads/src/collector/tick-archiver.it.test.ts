// The tick archive on its own: ticks already in JetStream (a private nats-server) reach the
// shared Kafka test broker exactly once, keyed by symbol, with the message-id header, and a
// restart of the archiver neither repeats nor skips any.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { kafkaBrokers, probeKafka, readRecords, topicSize } from '../../../test/support/kafka.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { waitUntil } from '../../../test/support/collector.js';
import { uniqueSuffix } from '../../../test/support/servers.js';
import { tickMessageId, type Tick } from '../contracts/messages.js';
import { pipelineNames, STREAMS, tickSubject } from '../contracts/subjects.js';
import { connectNats, type NatsHandle } from '../nats/connection.js';
import { publishConfirmed } from '../nats/publish.js';
import { DEFAULT_STREAM_SETTINGS, ensureStreams } from '../nats/streams.js';
import { loadConfig } from '../runtime/config.js';
import type { Companion } from './collector.js';
import { collectorConfigSchema } from './config.js';
import { ARCHIVE_CONSUMER, startTickArchiver } from './tick-archiver.js';

const log = pino({ level: 'silent' });

function tick(i: number): Tick {
  const symbol = i % 2 ? 'EUR/USD' : 'USD/JPY';
  const bid = symbol === 'EUR/USD' ? 1.08 + i / 1e5 : 151 + i / 1e3;
  return {
    symbol,
    bid,
    ask: bid + 0.0002,
    mid: bid + 0.0001,
    spread: 2,
    timestamp_ms: 1_714_000_000_000 + i,
    exchange: 48,
    source: 'polygon_websocket',
    event_type: 'quote',
    ingested_at: '2024-04-25T00:00:00.000Z',
  };
}

describe('tick archive (JetStream → Kafka)', () => {
  const brokers = kafkaBrokers();
  const topic = `it-tick-archive-${uniqueSuffix()}`;
  let nats: PrivateNats;
  let handle: NatsHandle;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    await probeKafka(brokers);
    nats = await startPrivateNats();
    handle = await connectNats(nats.url, 'archiver-it', log);
    jsm = await jetstreamManager(handle.nc);
    await ensureStreams(jsm, DEFAULT_STREAM_SETTINGS);
  }, 60_000);

  afterAll(async () => {
    await handle?.nc.close();
    await nats?.close();
    const admin = new Admin({ clientId: 'it-cleanup', bootstrapBrokers: brokers });
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  });

  async function publishTicks(from: number, to: number) {
    const ticks = Array.from({ length: to - from }, (_, k) => tick(from + k));
    await publishConfirmed(
      jetstream(handle.nc),
      ticks.map((t) => ({
        subject: tickSubject(t.symbol),
        data: JSON.stringify(t),
        msgId: tickMessageId(t, 'system'),
      })),
    );
    return ticks;
  }

  function start(): Promise<Companion> {
    const config = loadConfig(collectorConfigSchema, {
      NATS_URL: nats.url,
      SYMBOLS: 'EUR/USD,USD/JPY',
      POLYGON_API_KEY: 'unused',
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TICK_TOPIC: topic,
      COLLECTOR_ARCHIVE_BATCH_SIZE: '100',
    });
    return startTickArchiver({ config, nats: handle, log, registry: new Registry() });
  }

  it('archives every tick once, keyed by symbol, and resumes after a restart without repeats', async () => {
    const first = await publishTicks(0, 450);
    // Not a tick: archived never, and it does not hold up the ticks behind it.
    await jetstream(handle.nc).publish('ticks.EURUSD', '{"symbol":"EUR/USD","bid":-1}');
    const later = await publishTicks(450, 500);

    let archiver = await start();
    const records = await readRecords(brokers, topic, 500);
    await archiver.stop();

    const expected = [...first, ...later];
    const byId = new Map(records.map((r) => [r.headers['message-id'], r]));
    expect(byId.size).toBe(500);
    for (const t of expected) {
      const r = byId.get(tickMessageId(t, 'system'))!;
      expect(r).toBeDefined();
      expect(r.key).toBe(t.symbol.replace('/', ''));
      expect(JSON.parse(r.value)).toEqual(t);
    }

    // Restart: only the new ticks are sent.
    const more = await publishTicks(500, 560);
    archiver = await start();
    const all = await readRecords(brokers, topic, 560);
    await archiver.stop();
    expect(new Set(all.map((r) => r.headers['message-id']))).toEqual(
      new Set([...expected, ...more].map((t) => tickMessageId(t, 'system'))),
    );
    expect(await topicSize(brokers, topic)).toBe(560);

    const info = await jsm.consumers.info(STREAMS.ticks.name, ARCHIVE_CONSUMER);
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  }, 120_000);
});

describe('tick archive after the upgrade to a PIPELINE_ID', () => {
  const brokers = kafkaBrokers();
  const topic = `it-tick-archive-seed-${uniqueSuffix()}`;
  const names = pipelineNames({ pipelineId: 'market_fx-up', tenantId: 'acme' });
  let nats: PrivateNats;
  let handle: NatsHandle;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    await probeKafka(brokers);
    nats = await startPrivateNats();
    handle = await connectNats(nats.url, 'archiver-seed-it', log);
    jsm = await jetstreamManager(handle.nc);
    await ensureStreams(jsm, DEFAULT_STREAM_SETTINGS); // the seed's
    await ensureStreams(jsm, DEFAULT_STREAM_SETTINGS, names);
  }, 60_000);

  afterAll(async () => {
    await handle?.nc.close();
    await nats?.close();
    const admin = new Admin({ clientId: 'it-cleanup', bootstrapBrokers: brokers });
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  });

  const publish = (ticks: Tick[], subject = tickSubject) =>
    publishConfirmed(
      jetstream(handle.nc),
      ticks.map((t) => ({
        subject: subject(t.symbol),
        data: JSON.stringify(t),
        msgId: tickMessageId(t, 'x'),
      })),
    );
  const seedPending = async () => {
    const info = await jsm.consumers.info(STREAMS.ticks.name, ARCHIVE_CONSUMER);
    return info.num_pending + info.num_ack_pending;
  };

  it('archives what the previous version left, once, and leaves a live seed-named pipeline its ticks', async () => {
    // The previous version's archive consumer, with a backlog of ticks without tenant.
    await jsm.consumers.add(STREAMS.ticks.name, {
      durable_name: ARCHIVE_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const leftovers = Array.from({ length: 30 }, (_, i) => tick(1000 + i));
    await publish(leftovers);
    const config = loadConfig(collectorConfigSchema, {
      NATS_URL: nats.url,
      PIPELINE_ID: names.pipelineId!,
      TENANT_ID: names.tenantId,
      SYMBOLS: 'EUR/USD,USD/JPY',
      POLYGON_API_KEY: 'unused',
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TICK_TOPIC: topic,
      COLLECTOR_ARCHIVE_BATCH_SIZE: '100',
    });
    const archiver = await startTickArchiver({ config, nats: handle, log, registry: new Registry() });
    try {
      const records = await readRecords(brokers, topic, 30);
      // The ids the previous version gave them (scope: the tenant, no pipeline id).
      expect(new Set(records.map((r) => r.headers['message-id']))).toEqual(
        new Set(leftovers.map((t) => tickMessageId(t, 'acme'))),
      );
      await waitUntil('the leftovers acked', async () => (await seedPending()) === 0);

      // A pipeline run by hand under the seed names starts publishing: not archived here.
      const live = Array.from({ length: 20 }, (_, i) => ({ ...tick(2000 + i), tenant_id: 'handco' }));
      await publish(live);
      // The pipeline's own ticks still are.
      const own = Array.from({ length: 5 }, (_, i) => ({ ...tick(3000 + i), tenant_id: 'acme' }));
      await publish(own, (s) => names.tickSubject(s));
      await readRecords(brokers, topic, 35);
      await new Promise((r) => setTimeout(r, 2500)); // longer than a pull: a drain that went on would send now
      expect(await topicSize(brokers, topic)).toBe(35);
      const info = await jsm.consumers.info(STREAMS.ticks.name, ARCHIVE_CONSUMER);
      expect(info.num_pending + info.num_ack_pending).toBe(20);
    } finally {
      await archiver.stop();
    }
  }, 120_000);
});
