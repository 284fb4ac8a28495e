// The archive producer against the shared Kafka broker, on a topic of this file's own:
// it creates the topic once, sends more records than one batch holds, and every record
// arrives once, in order per key, with its message-id header.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin, Consumer, stringDeserializers, type Message } from '@platformatic/kafka';
import { reach, requireEnv, uniqueSuffix } from '../../../test/support/servers.js';
import { ArchiveProducer, MESSAGE_ID_HEADER, type ArchiveRecord } from './archive-producer.js';

describe('ArchiveProducer (Kafka)', () => {
  const brokers = requireEnv('Kafka', 'KAFKA_BROKERS').split(',');
  const topic = `it-archive-producer-${uniqueSuffix()}`;
  let admin: Admin;
  let producer: ArchiveProducer;

  beforeAll(async () => {
    admin = new Admin({ clientId: 'archive-producer-it-admin', bootstrapBrokers: brokers });
    await reach('Kafka', brokers.join(','), () => admin.metadata({ topics: [] }));
    producer = new ArchiveProducer({ brokers, clientId: 'archive-producer-it', batchSize: 100 });
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.close();
  });

  it('creates a missing topic, and does nothing when it exists', async () => {
    expect(await admin.listTopics()).not.toContain(topic);
    await producer.ensureTopics([topic]);
    await producer.ensureTopics([topic]);
    expect(await admin.listTopics()).toContain(topic);
  });

  it('sends every record in batches, confirmed, keyed, with the message id header', async () => {
    const records: ArchiveRecord[] = Array.from({ length: 250 }, (_, i) => ({
      key: `KEY${i % 3}`,
      value: JSON.stringify({ seq: i }),
      messageId: `id-${i}`,
      headers: { 'content-type': 'application/json' },
    }));
    expect(await producer.sendConfirmed(topic, records)).toBe(250);
    expect(await producer.sendConfirmed(topic, [])).toBe(0);

    const consumer = new Consumer({
      clientId: 'archive-producer-it-consumer',
      groupId: `archive-producer-it-${uniqueSuffix()}`,
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
      maxWaitTime: 500,
    });
    try {
      const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic)!;
      expect(ends.reduce((a, b) => a + b, 0n)).toBe(250n);
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const received: Message<string, string, string, string>[] = [];
      const deadline = setTimeout(() => void stream.close(), 60_000);
      for await (const m of stream) {
        received.push(m);
        if (received.length === 250) break;
      }
      clearTimeout(deadline);
      await stream.close();
      expect(received).toHaveLength(250);
      for (const key of ['KEY0', 'KEY1', 'KEY2']) {
        const ofKey = received.filter((m) => m.key === key).map((m) => JSON.parse(m.value).seq as number);
        expect(ofKey).toEqual(records.flatMap((r, i) => (r.key === key ? [i] : [])));
      }
      for (const m of received) {
        const seq = JSON.parse(m.value).seq as number;
        expect(m.headers.get(MESSAGE_ID_HEADER)).toBe(`id-${seq}`);
        expect(m.headers.get('content-type')).toBe('application/json');
      }
    } finally {
      await consumer.close();
    }
  });
});
