// NATS subjects, JetStream streams and Kafka topics: the one place that names them.
import { subjectToken } from './symbols.js';
import type { Timeframe } from './timeframes.js';

export const STREAMS = {
  ticks: { name: 'MARKET_TICKS', subjects: ['ticks.>'] },
  bars: { name: 'MARKET_BARS', subjects: ['bars.>'] },
  dlq: { name: 'MARKET_DLQ', subjects: ['dlq.>'] },
  /** Operational events that other services act on (see the subjects below). */
  events: { name: 'MARKET_EVENTS', subjects: ['events.>'] },
} as const;

export function tickSubject(symbol: string): string {
  return `ticks.${subjectToken(symbol)}`;
}

export function barSubject(symbol: string, timeframe: Timeframe): string {
  return `bars.${subjectToken(symbol)}.${timeframe}`;
}

export function dlqSubject(originalSubject: string): string {
  return `dlq.${originalSubject}`;
}

/**
 * `events.feed_gap` (stream MARKET_EVENTS): the collector publishes one message
 * (messages.ts feedGapSchema) for every span of quotes it knows it missed, either because
 * the WebSocket was disconnected or because its in-memory buffer overflowed while NATS was
 * unreachable. The gap filler consumes it and repairs the bars of those symbols and times.
 */
export const FEED_GAP_SUBJECT = 'events.feed_gap';

export const KAFKA_TOPICS = { ticks: 'tick_archive', bars: 'aggregate_archive' } as const;

/** Kafka key of a tick: the symbol's token (EURUSD), so one symbol stays in one partition. */
export function tickKafkaKey(symbol: string): string {
  return subjectToken(symbol);
}

/** Kafka key of a bar: symbol and timeframe, so one bar series stays in one partition. */
export function barKafkaKey(symbol: string, timeframe: Timeframe): string {
  return `${subjectToken(symbol)}.${timeframe}`;
}
