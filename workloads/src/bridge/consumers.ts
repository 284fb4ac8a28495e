// The bridge's two durable pull consumers, shared by every replica (same durable name: the
// server hands each message to one of them). Created or updated at start so that a changed
// setting takes effect on the next rollout.
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS } from '../contracts/subjects.js';
import type { StreamKind } from './route.js';

export const BRIDGE_CONSUMERS: Record<StreamKind, { stream: string; durable: string; filter: string }> = {
  ticks: { stream: STREAMS.ticks.name, durable: 'bridge-ticks', filter: 'ticks.>' },
  bars: { stream: STREAMS.bars.name, durable: 'bridge-bars', filter: 'bars.>' },
};

export interface ConsumerSettings {
  /** How long the server waits for an ack before redelivering; see bridgeConsumerConfig. */
  ackWaitMs: number;
  /** Rows one replica can hold at once for this consumer (the sum of its batch sizes). */
  heldPerReplica: number;
}

/** Replicas the ack-pending limit leaves room for, each holding full batches. */
export const REPLICAS_ROOM = 10;

const NS_PER_MS = 1_000_000;

/**
 * - ack_wait: longer than a batch waits plus its write (checked at config load); while a
 *   write is retried the bridge calls working() on every held message, so an outage never
 *   causes redelivery.
 * - max_ack_pending: room for REPLICAS_ROOM replicas holding full batches; beyond that the
 *   server simply hands out fewer messages.
 * - max_deliver unlimited: the server never drops a message for being redelivered often;
 *   a message that cannot be written goes to the DLQ by the bridge itself.
 * - deliver_policy all: a new consumer starts at the beginning of what the stream keeps.
 */
export function bridgeConsumerConfig(
  kind: StreamKind,
  s: ConsumerSettings,
): Partial<ConsumerConfig> & { durable_name: string } {
  const c = BRIDGE_CONSUMERS[kind];
  return {
    durable_name: c.durable,
    filter_subject: c.filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: s.ackWaitMs * NS_PER_MS,
    max_ack_pending: s.heldPerReplica * REPLICAS_ROOM,
    max_deliver: -1,
  };
}

const COMPARED = ['filter_subject', 'ack_wait', 'max_ack_pending', 'max_deliver'] as const;

export async function ensureConsumer(
  jsm: JetStreamManager,
  kind: StreamKind,
  s: ConsumerSettings,
): Promise<void> {
  const { stream, durable } = BRIDGE_CONSUMERS[kind];
  const wanted = bridgeConsumerConfig(kind, s);
  const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
  if (!existing) {
    await jsm.consumers.add(stream, wanted).catch(async (error: Error) => {
      // Another replica created it between our info and add: fine if it exists now.
      if (!(await jsm.consumers.info(stream, durable).catch(() => undefined))) throw error;
    });
    return;
  }
  const differs = COMPARED.some((k) => (existing.config[k] ?? undefined) !== wanted[k]);
  if (differs) {
    await jsm.consumers.update(stream, durable, {
      filter_subject: wanted.filter_subject,
      ack_wait: wanted.ack_wait,
      max_ack_pending: wanted.max_ack_pending,
      max_deliver: wanted.max_deliver,
    });
  }
}
