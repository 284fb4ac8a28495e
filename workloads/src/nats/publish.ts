// Publishing to JetStream with confirmation, many in flight at once: awaiting each
// publish's ack in turn would cap throughput at one round trip per message.
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';

export interface Outgoing {
  subject: string;
  data: Uint8Array | string;
  msgId: string;
  headers?: MsgHdrs;
}

export interface PublishResult {
  published: number;
  /** Messages the server recognised as already stored (same id within the window). */
  duplicates: number;
}

/**
 * Publishes every message and resolves once the server has confirmed all of them.
 * Rejects on the first failure; messages already confirmed stay stored and, having
 * deterministic ids, are recognised as duplicates when the caller publishes again.
 */
export async function publishConfirmed(
  js: JetStreamClient,
  messages: Iterable<Outgoing>,
  window = 256,
  timeoutMs = 10_000,
): Promise<PublishResult> {
  const result: PublishResult = { published: 0, duplicates: 0 };
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  for (const m of messages) {
    if (failure) break;
    const p: Promise<void> = js
      .publish(m.subject, m.data, { msgID: m.msgId, headers: m.headers, timeout: timeoutMs })
      .then(
        (ack: PubAck) => {
          result.published++;
          if (ack.duplicate) result.duplicates++;
        },
        (error: unknown) => {
          failure ??= error;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return result;
}
