// Dead letters: a message that cannot be processed goes to dlq.<original subject> with the
// reason in headers, so that it never blocks the messages behind it and can be inspected
// or replayed later.
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { SEED_NAMES, type PipelineNames } from '../contracts/subjects.js';

export interface DeadLetter {
  subject: string;
  data: Uint8Array;
  reason: string;
  /** Id of the original message, if it had one, so a replay keeps the same identity. */
  messageId?: string;
  service: string;
}

/**
 * Publishes to the pipeline's dead-letter subject (`names`: PipelineNames; the seed's
 * `dlq.<subject>` when unnamed).
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  letter: DeadLetter,
  names: Pick<PipelineNames, 'dlqSubject'> = SEED_NAMES,
): Promise<void> {
  const h = natsHeaders();
  h.set('Mp-Dlq-Reason', letter.reason.slice(0, 1000).replace(/[\r\n]+/g, ' '));
  h.set('Mp-Dlq-Original-Subject', letter.subject);
  h.set('Mp-Dlq-Service', letter.service);
  h.set('Mp-Dlq-Time', new Date().toISOString());
  if (letter.messageId) h.set('Mp-Dlq-Original-Id', letter.messageId);
  await js.publish(names.dlqSubject(letter.subject), letter.data, {
    headers: h,
    // Deduplicate a dead letter that is produced twice (redelivery of the same bad message).
    msgID: letter.messageId ? `dlq:${letter.messageId}` : undefined,
  });
}
