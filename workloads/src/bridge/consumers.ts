// The bridge's two durable pull consumers, shared by every replica (same durable name: the
// server hands each message to one of them). Created or updated at start so that a changed
// setting takes effect on the next rollout.
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS } from '../contracts/subjects.js';
import { ensureDurableConsumer, NS_PER_MS } from '../nats/durable-consumer.js';
import type { StreamKind } from './route.js';

// No filter subject: each consumer takes its whole stream (MARKET_TICKS holds only
// ticks.>, MARKET_BARS only bars.>). A filter equal to the stream's subjects selects the
// same messages but cost nats-server 2.9 about a quarter more CPU per delivery (12.8
// against 10.1 µs per message, fetch + ack of 100k messages, alternated three times);
// anything else that ever lands in the stream is dead-lettered by the bridge's routing.
export const BRIDGE_CONSUMERS: Record<
  StreamKind,
  { stream: string; durable: string; subjects: readonly string[] }
> = {
  ticks: { stream: STREAMS.ticks.name, durable: 'bridge-ticks', subjects: STREAMS.ticks.subjects },
  bars: { stream: STREAMS.bars.name, durable: 'bridge-bars', subjects: STREAMS.bars.subjects },
};

export interface ConsumerSettings {
  /** How long the server waits for an ack before redelivering; see bridgeConsumerConfig. */
  ackWaitMs: number;
  /** Rows one replica can hold at once for this consumer (the sum of its batch sizes). */
  heldPerReplica: number;
}

/** Replicas the ack-pending limit leaves room for, each holding full batches. */
export const REPLICAS_ROOM = 10;

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
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: s.ackWaitMs * NS_PER_MS,
    max_ack_pending: s.heldPerReplica * REPLICAS_ROOM,
    max_deliver: -1,
  };
}

const COMPARED = ['ack_wait', 'max_ack_pending', 'max_deliver'] as const;

/**
 * True when an existing consumer's filter selects the whole stream, as none does. Consumers
 * created before the filter was dropped keep theirs (equivalent; some servers refuse to
 * change a filter), so they are not "updated" to no filter.
 */
function takesWholeStream(kind: StreamKind, filter: string | undefined): boolean {
  return !filter || BRIDGE_CONSUMERS[kind].subjects.includes(filter);
}

export async function ensureConsumer(
  jsm: JetStreamManager,
  kind: StreamKind,
  s: ConsumerSettings,
): Promise<void> {
  const wanted = bridgeConsumerConfig(kind, s);
  await ensureDurableConsumer(jsm, BRIDGE_CONSUMERS[kind].stream, wanted, (existing) => {
    const filter = existing.filter_subject;
    const keepFilter = takesWholeStream(kind, filter);
    const differs = !keepFilter || COMPARED.some((k) => (existing[k] ?? undefined) !== wanted[k]);
    if (!differs) return undefined;
    return {
      filter_subject: keepFilter ? filter : '',
      ack_wait: wanted.ack_wait,
      max_ack_pending: wanted.max_ack_pending,
      max_deliver: wanted.max_deliver,
    };
  });
}
