// Kafka test server (scripts/test-env/kafka.sh): a real Apache Kafka broker in KRaft mode.
// Proves it with the client the product uses: admin createTopics, an idempotent producer with
// acks=all sending keyed messages with headers, and a consumer group reading them back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Admin,
  Consumer,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';

import { reach, requireEnv, uniqueSuffix } from '../support/servers.js';

type StringMessage = Message<string, string, string, string>;

/** Reads `count` messages from the stream, or fails after `ms` naming what was read so far. */
async function take(
  stream: MessagesStream<string, string, string, string>,
  count: number,
  ms: number,
): Promise<StringMessage[]> {
  const received: StringMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`only ${received.length} of ${count} messages arrived within ${ms} ms`)),
      ms,
    );
  });
  const read = (async () => {
    for await (const message of stream) {
      received.push(message);
      await message.commit();
      if (received.length === count) break;
    }
    return received;
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('Kafka test server', () => {
  let brokers: string[];
  let admin: Admin;
  const clients: { close(): Promise<void> }[] = [];
  const topics: string[] = [];

  beforeAll(async () => {
    const setting = requireEnv('Kafka', 'KAFKA_BROKERS');
    brokers = setting.split(',');
    // First contact without retries, so that a stopped broker fails at once and by name.
    await reach('Kafka', setting, async () => {
      const probe = new Admin({ clientId: 'kafka-it-probe', bootstrapBrokers: brokers, retries: 0 });
      try {
        await probe.metadata({ topics: [] });
      } finally {
        await probe.close();
      }
    });
    admin = new Admin({ clientId: 'kafka-it-admin', bootstrapBrokers: brokers });
  });

  afterAll(async () => {
    for (const client of clients.reverse()) await client.close();
    if (admin) {
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.close();
    }
  });

  it('is a single KRaft node that advertises the configured address', async () => {
    const metadata = await admin.metadata({ topics: [] });
    expect([...metadata.brokers.values()].map((b) => `${b.host}:${b.port}`)).toEqual(brokers);
    expect(metadata.controllerId).toBe(1);
    expect(metadata.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('round-trips keyed messages with headers: createTopics, idempotent acks=all producer, consumer group', async () => {
    const topic = `it-kafka-${uniqueSuffix()}`;
    const groupId = `it-kafka-group-${uniqueSuffix()}`;

    const created = await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    topics.push(topic);
    expect(created.map(({ name, partitions, replicas }) => ({ name, partitions, replicas }))).toEqual([
      { name: topic, partitions: 1, replicas: 1 },
    ]);
    expect(await admin.listTopics()).toContain(topic);

    const producer = new Producer({
      clientId: 'kafka-it-producer',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
    });
    clients.push(producer);

    const sent = Array.from({ length: 6 }, (_, i) => ({
      key: `instrument-${i % 3}`,
      value: JSON.stringify({ seq: i, bid: 1.0841 + i / 10000 }),
      headers: { 'content-type': 'application/json', seq: String(i) },
    }));
    // Two sends: the broker checks the idempotent producer's sequence numbers across batches.
    const first = await producer.send({ messages: sent.slice(0, 3).map((m) => ({ topic, ...m })) });
    const second = await producer.send({ messages: sent.slice(3).map((m) => ({ topic, ...m })) });
    expect(first.offsets).toEqual([{ topic, partition: 0, offset: 0n }]);
    expect(second.offsets).toEqual([{ topic, partition: 0, offset: 3n }]);
    // Only a broker's InitProducerId answer gives the producer an id.
    expect(typeof producer.producerId).toBe('bigint');
    expect(producer.producerId! >= 0n).toBe(true);

    const consumer = new Consumer({
      clientId: 'kafka-it-consumer',
      groupId,
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
      maxWaitTime: 500,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    });
    clients.push(consumer);
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const received = await take(stream, sent.length, 60000);
    await stream.close();

    expect(
      received.map((m) => ({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: Object.fromEntries(m.headers),
      })),
    ).toEqual(sent.map((m, i) => ({ topic, partition: 0, offset: BigInt(i), ...m })));

    // The group committed past the last message on the broker.
    const [offsets] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    expect(offsets?.topics).toEqual([
      {
        name: topic,
        partitions: [expect.objectContaining({ partitionIndex: 0, committedOffset: BigInt(sent.length) })],
      },
    ]);
  });
});
