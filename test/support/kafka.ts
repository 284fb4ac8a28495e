// Reading back what a test wrote to the shared Kafka test broker.
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';
import { reach, requireEnv, uniqueSuffix } from './servers.js';

export interface ReadRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  offset: bigint;
}

export function kafkaBrokers(): string[] {
  return requireEnv('Kafka', 'KAFKA_BROKERS').split(',');
}

/** Fails at once, naming the server, when the broker is not there. */
export async function probeKafka(brokers: string[]): Promise<void> {
  await reach('Kafka', brokers.join(','), async () => {
    const probe = new Admin({ clientId: 'it-probe', bootstrapBrokers: brokers, retries: 0 });
    try {
      await probe.metadata({ topics: [] });
    } finally {
      await probe.close();
    }
  });
}

/** Number of records in a topic (sum of the partitions' end offsets). */
export async function topicSize(brokers: string[], topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'it-offsets', bootstrapBrokers: brokers });
  try {
    const meta = await admin.metadata({ topics: [topic] });
    const partitions = meta.topics.get(topic)?.partitionsCount ?? 0;
    const [listed] = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, timestamp: -1n })),
        },
      ],
    });
    return Number((listed?.partitions ?? []).reduce((sum, p) => sum + p.offset, 0n));
  } finally {
    await admin.close();
  }
}

/** Reads `count` records from the start of the topic, or fails after `ms` saying how many came. */
export async function readRecords(
  brokers: string[],
  topic: string,
  count: number,
  ms = 60_000,
): Promise<ReadRecord[]> {
  const consumer = new Consumer({
    clientId: 'it-reader',
    groupId: `it-reader-${uniqueSuffix()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  const received: ReadRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`only ${received.length} of ${count} records arrived in ${topic} within ${ms} ms`),
          ),
        ms,
      );
    });
    const read = (async () => {
      for await (const m of stream) {
        received.push({
          key: m.key,
          value: m.value,
          headers: Object.fromEntries(m.headers),
          offset: m.offset,
        });
        if (received.length >= count) break;
      }
    })();
    await Promise.race([read, timeout]);
    await stream.close();
    return received;
  } finally {
    clearTimeout(timer);
    await consumer.close(true);
  }
}
