// The collector with KAFKA_BROKERS set: simulator → collector → JetStream → the in-process
// archive consumer → the shared Kafka test broker (a topic of the test's own). The archive
// must hold exactly the ticks JetStream holds, each once, keyed by symbol.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Admin } from '@platformatic/kafka';
import { readStream, startCollector, waitUntil } from '../../../test/support/collector.js';
import { metricValue } from '../../../test/support/metrics.js';
import { kafkaBrokers, probeKafka, readRecords, topicSize } from '../../../test/support/kafka.js';
import { startPrivateNats, type PrivateNats } from '../../../test/support/private-nats.js';
import { uniqueSuffix } from '../../../test/support/servers.js';
import { startTestSimulator, TEST_API_KEY } from '../../../test/support/simulator.js';
import { tickMessageId, tickSchema } from '../contracts/messages.js';
import { STREAMS } from '../contracts/subjects.js';
import type { Simulator } from '../simulator/simulator-server.js';
import { startTickArchiver } from './tick-archiver.js';

describe('collector with the Kafka tick archive', () => {
  const brokers = kafkaBrokers();
  const topic = `it-collector-ticks-${uniqueSuffix()}`;
  let nats: PrivateNats;
  let nc: NatsConnection;
  let simulator: Simulator;
  let closed = false;

  beforeAll(async () => {
    await probeKafka(brokers);
    nats = await startPrivateNats();
    simulator = await startTestSimulator({ symbols: ['EUR/USD', 'XAU/USD'], quotesPerSecond: 50 });
  }, 60_000);

  afterAll(async () => {
    if (!closed) await simulator?.close();
    await nc?.close();
    await nats?.close();
    const admin = new Admin({ clientId: 'it-cleanup', bootstrapBrokers: brokers });
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  });

  it('archives every published tick exactly once with the symbol as key', async () => {
    const running = await startCollector(
      {
        NATS_URL: nats.url,
        SYMBOLS: 'EUR/USD,XAU/USD',
        POLYGON_WS_URL: simulator.webSocketUrl,
        POLYGON_API_KEY: TEST_API_KEY,
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TICK_TOPIC: topic,
        COLLECTOR_ARCHIVE_BATCH_SIZE: '200',
      },
      { startCompanion: startTickArchiver },
    );
    const { registry, collector } = running;
    const metric = (name: string) => metricValue(registry, `market_pipeline_collector_${name}`);
    await waitUntil('ticks', async () => (await metric('ticks_published_total')) >= 300);
    // Stop the feed, then let the archive catch up before stopping the process.
    await simulator.close();
    closed = true;
    const published = await metric('ticks_published_total');
    await waitUntil(
      'the archive to catch up',
      async () => (await metric('archived_ticks_total')) >= published,
    );
    await collector.stop();
    expect(await collector.done).toBe(0);

    nc = await connect({ servers: nats.url });
    const ticks = (await readStream(nc, STREAMS.ticks.name)).map((m) => tickSchema.parse(m.json()));
    expect(ticks).toHaveLength(published);
    const records = await readRecords(brokers, topic, ticks.length);
    expect(await topicSize(brokers, topic)).toBe(ticks.length);
    const byId = new Map(records.map((r) => [r.headers['message-id'], r]));
    expect(byId.size).toBe(ticks.length);
    for (const tick of ticks) {
      const record = byId.get(tickMessageId(tick, 'system'));
      expect(record?.key).toBe(tick.symbol.replace('/', ''));
      expect(tickSchema.parse(JSON.parse(record!.value))).toEqual(tick);
    }
    expect(await metric('archive_lag_messages')).toBe(0);
  }, 120_000);
});
