// Ids of the bar versions already in the MARKET_BARS stream. The scheduled window rebuilds
// the last few bars on every run (look-back), so the same bar version is produced several
// times. On NATS that is harmless (duplicate window, and the database keeps one version per
// bar), but the Kafka archive is append-only: these ids let the aggregator archive each bar
// version once. Bars are archived before they are published to NATS, so an id found in the
// stream means the archive has that version too.
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { PipelineNames } from '../contracts/subjects.js';
import type { Timeframe } from '../contracts/timeframes.js';
import { NS_PER_MS } from '../nats/durable-consumer.js';

// Server clocks may differ a little from ours; read somewhat further back.
const CLOCK_SLACK_MS = 5 * 60_000;

/**
 * Reads the message ids of the bars of `timeframes` that the stream received since
 * `sinceMs` (headers only, through short-lived ephemeral consumers).
 */
export async function publishedBarIds(
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: Pick<PipelineNames, 'streams' | 'barFilter'>,
  timeframes: readonly Timeframe[],
  sinceMs: number,
): Promise<Set<string>> {
  const ids = new Set<string>();
  // One consumer per timeframe: a single wildcard filter works on every nats-server
  // version (several filter subjects per consumer need 2.10).
  for (const timeframe of timeframes) {
    await collectIds(js, jsm, names.streams.bars.name, names.barFilter(timeframe), sinceMs, ids);
  }
  return ids;
}

async function collectIds(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  filterSubject: string,
  sinceMs: number,
  ids: Set<string>,
): Promise<void> {
  const info = await jsm.consumers.add(stream, {
    filter_subject: filterSubject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(Math.max(0, sinceMs - CLOCK_SLACK_MS)).toISOString(),
    ack_policy: AckPolicy.None,
    headers_only: true,
    mem_storage: true,
    // The server removes it by itself should we die before deleting it.
    inactive_threshold: 60_000 * NS_PER_MS,
  });
  try {
    if (info.num_pending === 0) return;
    const consumer = await js.consumers.get(stream, info.name);
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const m of messages) {
      const id = m.headers?.get('Nats-Msg-Id');
      if (id) ids.add(id);
      if (m.info.pending === 0) break;
    }
    await messages.close();
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}
