// NATS subjects, JetStream streams and Kafka topics: the one place that names them.
import { subjectToken } from './symbols.js';
import type { Timeframe } from './timeframes.js';

export const STREAMS = {
  ticks: { name: 'MARKET_TICKS', subjects: ['ticks.>'] },
  bars: { name: 'MARKET_BARS', subjects: ['bars.>'] },
  dlq: { name: 'MARKET_DLQ', subjects: ['dlq.>'] },
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

export const KAFKA_TOPICS = { ticks: 'tick_archive', bars: 'aggregate_archive' } as const;

/** Kafka key of a bar: symbol and timeframe, so one bar series stays in one partition. */
export function barKafkaKey(symbol: string, timeframe: Timeframe): string {
  return `${subjectToken(symbol)}.${timeframe}`;
}
