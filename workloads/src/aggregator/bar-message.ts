// Turns a database bar row into the bar message of the contract (messages.ts barSchema)
// and into what is published: NATS subject + message id, Kafka key.
import { barMessageId, ohlcvBar, type Bar } from '../contracts/messages.js';
import { barKafkaKey, barSubject } from '../contracts/subjects.js';
import type { PipSizes } from '../contracts/symbols.js';
import type { Outgoing } from '../nats/publish.js';
import type { BarRow } from './bar-query.js';

export const LIVE_SOURCE = 'live_aggregated';

/**
 * The bar message for a row. `builtAt` becomes ingested_at: the version of this bar
 * (messages.ts barVersion), so a later rebuild that picked up late ticks wins downstream.
 * Validated here, so that a defect shows up as a failed run, not as a bad message.
 */
export function buildBar(row: BarRow, pipSizes: PipSizes, builtAt: Date): Bar {
  return ohlcvBar(row, { source: LIVE_SOURCE, ingestedAt: builtAt, pipSizes });
}

/** The bar as a NATS message: subject bars.<SYM>.<tf>, id = the bar version's content id. */
export function barOutgoing(bar: Bar): Outgoing {
  return {
    subject: barSubject(bar.symbol, bar.timeframe),
    data: JSON.stringify(bar),
    msgId: barMessageId(bar),
  };
}

/** The bar as a Kafka archive record: key symbol.tf (one series, one partition). */
export function barArchiveRecord(bar: Bar): { key: string; value: string; messageId: string } {
  return {
    key: barKafkaKey(bar.symbol, bar.timeframe),
    value: JSON.stringify(bar),
    messageId: barMessageId(bar),
  };
}
