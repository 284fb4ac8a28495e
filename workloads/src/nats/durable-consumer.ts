// Durable JetStream consumers that several processes (replicas, runs) open at start: created
// when missing, brought up to date when a setting changed, and a process that loses the
// race to create one takes the consumer the winner made.
import type { ConsumerConfig, ConsumerUpdateConfig, JetStreamManager } from '@nats-io/jetstream';

/** JetStream durations are nanoseconds. */
export const NS_PER_MS = 1_000_000;

/**
 * Creates `config.durable_name` on `stream`, or, when it exists, applies what
 * `changes(existing)` returns (undefined: it is up to date).
 */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
  changes: (existing: ConsumerConfig) => Partial<ConsumerUpdateConfig> | undefined = () => undefined,
): Promise<void> {
  const durable = config.durable_name;
  const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
  if (!existing) {
    await jsm.consumers.add(stream, config).catch(async (error: Error) => {
      // Another process created it between our info and add: fine if it exists now.
      if (!(await jsm.consumers.info(stream, durable).catch(() => undefined))) throw error;
    });
    return;
  }
  const update = changes(existing.config);
  if (update) await jsm.consumers.update(stream, durable, update);
}
