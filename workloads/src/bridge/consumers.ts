// The bridge's two durable pull consumers, shared by every replica (same durable name: the
// server hands each message to one of them). Created or updated at start so that a changed
// setting takes effect on the next rollout.
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { SEED_NAMES, type PipelineNames } from '../contracts/subjects.js';
import { ensureDurableConsumer, NS_PER_MS } from '../nats/durable-consumer.js';
import type { StreamKind } from './route.js';

// No filter subject: each consumer takes its whole stream (MARKET_TICKS holds only
// ticks.>, MARKET_BARS only bars.>). A filter equal to the stream's subjects selects the
// same messages but cost nats-server 2.9 about a quarter more CPU per delivery (12.8
// against 10.1 µs per message, fetch + ack of 100k messages, alternated three times);
// anything else that ever lands in the stream is dead-lettered by the bridge's routing.
//
// One pair per pipeline: the durables keep their names, on the pipeline's own streams
// (PipelineNames.streams), so two pipelines' bridges never share a consumer.
export type BridgeConsumers = Record<
  StreamKind,
  { stream: string; durable: string; subjects: readonly string[] }
>;

export function bridgeConsumers(names: Pick<PipelineNames, 'streams'>): BridgeConsumers {
  return {
    ticks: {
      stream: names.streams.ticks.name,
      durable: 'bridge-ticks',
      subjects: names.streams.ticks.subjects,
    },
    bars: { stream: names.streams.bars.name, durable: 'bridge-bars', subjects: names.streams.bars.subjects },
  };
}

/** The consumers under the seed's names (a lone pipeline run with the defaults). */
export const BRIDGE_CONSUMERS: BridgeConsumers = bridgeConsumers(SEED_NAMES);

export interface ConsumerSettings {
  /** How long the server waits for an ack before redelivering; see bridgeConsumerConfig. */
  ackWaitMs: number;
  /** Rows one replica can hold at once for this consumer (the sum of its batch sizes). */
  heldPerReplica: number;
}

/** Replicas the ack-pending limit leaves room for, each holding full batches. */
export const REPLICAS_ROOM = 10;

/**
 * - ack_policy explicit, not "all": an AckAll ack of sequence N would also acknowledge
 *   every message up to N that another replica (or a concurrent write of the same one)
 *   holds unwritten, lost if that replica dies (nats/wire-acks.ts).
 * - ack_wait short (BRIDGE_ACK_WAIT, 5 s): a killed replica's messages are redelivered
 *   that soon. A live replica sends working() for every message it has held a while, in a
 *   lane, being written or retried through an outage (stream-worker.ts), so a slow write or
 *   an outage never causes redelivery.
 * - max_ack_pending: room for REPLICAS_ROOM replicas holding full batches; beyond that the
 *   server simply hands out fewer messages.
 * - max_deliver unlimited: the server never drops a message for being redelivered often;
 *   a message that cannot be written goes to the DLQ by the bridge itself.
 * - deliver_policy all: a new consumer starts at the beginning of what the stream keeps.
 */
export function bridgeConsumerConfig(
  kind: StreamKind,
  s: ConsumerSettings,
  consumers: BridgeConsumers = BRIDGE_CONSUMERS,
): Partial<ConsumerConfig> & { durable_name: string } {
  const c = consumers[kind];
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
function takesWholeStream(subjects: readonly string[], filter: string | undefined): boolean {
  return !filter || subjects.includes(filter);
}

export async function ensureConsumer(
  jsm: JetStreamManager,
  kind: StreamKind,
  s: ConsumerSettings,
  consumers: BridgeConsumers = BRIDGE_CONSUMERS,
): Promise<void> {
  const wanted = bridgeConsumerConfig(kind, s, consumers);
  await ensureDurableConsumer(jsm, consumers[kind].stream, wanted, (existing) => {
    const filter = existing.filter_subject;
    const keepFilter = takesWholeStream(consumers[kind].subjects, filter);
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
