// Publishes downloaded bars the way the aggregator publishes live ones (aggregator/
// bar-message.ts): the Kafka archive first (when configured), then NATS bars.<SYM>.<tf>
// with the bar version's id, both confirmed batch by batch. Archive first, so that a bar
// confirmed by JetStream is always archived too; a run repeated after a failure re-sends
// the same ids, which JetStream drops within its duplicate window and archive readers
// recognise by the message-id header.
import type { JetStreamClient } from '@nats-io/jetstream';
import { sendBars, type BarArchive, type BarNames } from '../aggregator/bar-message.js';
import type { Bar } from '../contracts/messages.js';

export interface BarSink {
  js: JetStreamClient;
  archive?: BarArchive;
  /** The pipeline's subjects and id scope. */
  names: BarNames;
}

/** Bars per confirmed batch. */
const BATCH = 5000;

export interface PublishCounts {
  published: number;
  /** Already in the stream (same id within the duplicate window). */
  duplicates: number;
}

export async function publishBars(sink: BarSink, bars: readonly Bar[]): Promise<PublishCounts> {
  const counts: PublishCounts = { published: 0, duplicates: 0 };
  for (let i = 0; i < bars.length; i += BATCH) {
    const result = await sendBars(sink.js, sink.archive, bars.slice(i, i + BATCH), sink.names);
    counts.published += result.published;
    counts.duplicates += result.duplicates;
  }
  return counts;
}
