// Archiving to Kafka (tick_archive, aggregate_archive): an idempotent producer with acks from
// all in-sync replicas, sending keyed records in batches and resolving only once the broker
// has confirmed every one. Topic-agnostic, so the collector and the aggregator share it.
import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';

/** Kafka header that carries the message's deterministic id (the NATS Nats-Msg-Id). */
export const MESSAGE_ID_HEADER = 'message-id';

export interface ArchiveRecord {
  /** Partitioning key: records with the same key stay in order in one partition. */
  key: string;
  value: string;
  /** Deterministic id, so that a reader recognises a re-sent record as the same one. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface ArchiveProducerOptions {
  brokers: string[];
  clientId: string;
  /** Records per produce request. */
  batchSize?: number;
  /** Attempts per request before a send fails (the client backs off in between). */
  retries?: number;
}

export class ArchiveProducer {
  private readonly producer: Producer<string, string, string, string>;
  private readonly batchSize: number;

  constructor(private readonly options: ArchiveProducerOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.producer = new Producer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      serializers: stringSerializers,
      // Idempotence makes the client's own retries safe (the broker drops a batch it
      // already has); acks=all means a confirmed record survives the loss of a broker.
      idempotent: true,
      acks: ProduceAcks.ALL,
      retries: options.retries ?? 3,
      autocreateTopics: false,
    });
  }

  /**
   * Creates the topics that do not exist yet, with the broker's default partitions and
   * replication, because brokers are commonly run with topic auto-creation off.
   */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    const admin = new Admin({
      clientId: `${this.options.clientId}-admin`,
      bootstrapBrokers: this.options.brokers,
      retries: this.options.retries ?? 3,
    });
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      await admin.createTopics({ topics: missing }).catch(async (error: unknown) => {
        // Created meanwhile by another producer: fine if they all exist now.
        const now = new Set(await admin.listTopics());
        if (!missing.every((t) => now.has(t))) throw error;
      });
    } finally {
      await admin.close();
    }
  }

  /**
   * Sends every record to `topic` and resolves with the number sent once all are
   * confirmed. Batches go one after another, which keeps each key's records in order.
   * Rejects on the first failure: records of earlier batches are stored, and a caller that
   * sends again produces repeats that readers recognise by the message-id header.
   */
  async sendConfirmed(topic: string, records: Iterable<ArchiveRecord>): Promise<number> {
    let sent = 0;
    let batch: ArchiveRecord[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await this.producer.send({
        messages: batch.map((r) => ({
          topic,
          key: r.key,
          value: r.value,
          headers: { ...r.headers, [MESSAGE_ID_HEADER]: r.messageId },
        })),
      });
      sent += batch.length;
      batch = [];
    };
    for (const record of records) {
      batch.push(record);
      if (batch.length >= this.batchSize) await flush();
    }
    await flush();
    return sent;
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
