// Turns a database bar row into the bar message of the contract (messages.ts barSchema)
// and into what is published: NATS subject + message id, Kafka key.
import { barMessageId, ohlcvBar, type Bar } from '../contracts/messages.js';
import { barKafkaKey, kafkaHeaders, type PipelineNames } from '../contracts/subjects.js';
import type { PipSizes } from '../contracts/symbols.js';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { ArchiveProducer } from '../kafka/archive-producer.js';
import { publishConfirmed, type Outgoing } from '../nats/publish.js';
import { asStep } from '../runtime/failure.js';
import type { BarRow } from './bar-query.js';

export const LIVE_SOURCE = 'live_aggregated';

/**
 * The bar message for a row. `builtAt` becomes ingested_at: the version of this bar
 * (messages.ts barVersion), so a later rebuild that picked up late ticks wins downstream.
 * Validated here, so that a defect shows up as a failed run, not as a bad message.
 */
export function buildBar(
  row: BarRow,
  pipSizes: PipSizes,
  builtAt: Date,
  tenantId: string,
  partial = false,
): Bar {
  return ohlcvBar(row, { tenantId, source: LIVE_SOURCE, ingestedAt: builtAt, pipSizes, partial });
}

/** The names a bar is sent under: the pipeline's subjects and message-id scope. */
export type BarNames = Pick<PipelineNames, 'barSubject' | 'idScope' | 'tenantId' | 'pipelineId'>;

/**
 * The bar as a NATS message: subject (prefixed) bars.<SYM>.<tf>, id = the pipeline's scope
 * plus the bar version's content id.
 */
export function barOutgoing(bar: Bar, names: BarNames): Outgoing {
  return {
    subject: names.barSubject(bar.symbol, bar.timeframe),
    data: JSON.stringify(bar),
    msgId: barMessageId(bar, names.idScope),
  };
}

/**
 * The bar as a Kafka archive record: key symbol.tf (one series, one partition), headers
 * naming the tenant and pipeline (kafkaHeaders).
 */
export function barArchiveRecord(
  bar: Bar,
  names: BarNames,
): { key: string; value: string; messageId: string; headers: Record<string, string> } {
  return {
    key: barKafkaKey(bar.symbol, bar.timeframe),
    value: JSON.stringify(bar),
    messageId: barMessageId(bar, names.idScope),
    headers: kafkaHeaders(names),
  };
}

/** The Kafka archive of bars (aggregate_archive), when one is configured. */
export interface BarArchive {
  producer: ArchiveProducer;
  topic: string;
}

export interface SentBars {
  /** Sent to Kafka now, and already there (ids read back, not sent again). */
  archived: number;
  alreadyArchived: number;
  /** Newly in MARKET_BARS, and already there (same id within the duplicate window). */
  published: number;
  duplicates: number;
}

/**
 * Sends bars the one way live and historical bars go: the Kafka archive first (when there
 * is one), then NATS bars.<SYM>.<tf> with the bar version's id, both confirmed. Archive
 * first, so that a bar version in the stream is always archived too; a failure in either
 * step names it. Bars whose id is in `archivedIds` are not archived again.
 */
export async function sendBars(
  js: JetStreamClient,
  archive: BarArchive | undefined,
  bars: readonly Bar[],
  names: BarNames,
  archivedIds?: ReadonlySet<string>,
): Promise<SentBars> {
  let archived = 0;
  let alreadyArchived = 0;
  if (archive) {
    const fresh = archivedIds ? bars.filter((b) => !archivedIds.has(barMessageId(b, names.idScope))) : bars;
    archived = await asStep(`Kafka send to ${archive.topic}`, () =>
      archive.producer.sendConfirmed(
        archive.topic,
        fresh.map((b) => barArchiveRecord(b, names)),
      ),
    );
    alreadyArchived = bars.length - fresh.length;
  }
  const result = await asStep('NATS publish to the bars stream', () =>
    publishConfirmed(
      js,
      bars.map((b) => barOutgoing(b, names)),
    ),
  );
  return { archived, alreadyArchived, published: result.published, duplicates: result.duplicates };
}
