// NATS subjects, JetStream streams, durable consumers, inbox prefix and Kafka keys: the one
// place that names them, for one pipeline. Several pipelines share one NATS (the chart's dev
// NATS is one Service per namespace), so everything a pipeline creates on the bus is named
// after its pipeline id (PIPELINE_ID; the operator sets `<namespace>_<name>`):
//
//                      no PIPELINE_ID (the seed's names)   PIPELINE_ID=market_fx-a
//   tick subject       ticks.EURUSD                        mp.market_fx-a.ticks.EURUSD
//   bar subject        bars.EURUSD.5m                      mp.market_fx-a.bars.EURUSD.5m
//   dead letters       dlq.<subject>                       mp.market_fx-a.dlq.<subject without prefix>
//   feed gap events    events.feed_gap                     mp.market_fx-a.events.feed_gap
//   coverage markers   events.coverage                     mp.market_fx-a.events.coverage
//   streams            MARKET_TICKS, MARKET_BARS, …        MARKET_TICKS_market_fx-a, …
//   durable consumers  bridge-ticks, … (one set per stream: the streams are the pipeline's own)
//   request inboxes    _INBOX.>                            _INBOX_market_fx-a.>
//
// The `mp.` first token keeps every pipeline's subjects apart from the seed's (`ticks.>`)
// and from each other: a pipeline id is one subject token (no dots), so `mp.<id>.>` of two
// pipelines never overlap, and JetStream accepts their streams side by side. README
// "Many pipelines on one set of servers" shows the NATS permissions these names allow.
import { z } from 'zod';
import { subjectToken } from './symbols.js';
import type { Timeframe } from './timeframes.js';

/**
 * A pipeline id: one NATS subject token that is also valid in a stream name (no dots,
 * wildcards, spaces or path separators). `<namespace>_<name>` of Kubernetes names is one
 * (neither may contain `_`, so it names exactly one pipeline).
 */
export const PIPELINE_ID_PATTERN = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/;
export const pipelineIdSchema = z
  .string()
  .max(120)
  .regex(PIPELINE_ID_PATTERN, 'a pipeline id is a-z, 0-9, - and _ (one NATS subject token)');

/** A tenant id: what the rows are stored under. Safe in JSON, ids, Kafka keys and headers. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
export const tenantIdSchema = z
  .string()
  .max(63)
  .regex(TENANT_ID_PATTERN, 'a tenant id is letters, digits, and - _ . inside');

const SEED_STREAMS = {
  ticks: { name: 'MARKET_TICKS', subjects: ['ticks.>'] },
  bars: { name: 'MARKET_BARS', subjects: ['bars.>'] },
  dlq: { name: 'MARKET_DLQ', subjects: ['dlq.>'] },
  /** Operational events that other services act on (see the subjects below). */
  events: { name: 'MARKET_EVENTS', subjects: ['events.>'] },
} as const;

export type StreamRole = keyof typeof SEED_STREAMS;
export interface StreamName {
  name: string;
  subjects: readonly string[];
}

/** What identifies a pipeline on the shared servers. */
export interface PipelineIdentity {
  /** Undefined: the seed's names (one pipeline on its servers, run by hand). */
  pipelineId?: string | undefined;
  tenantId: string;
}

export interface PipelineNames extends Required<Pick<PipelineIdentity, 'tenantId'>> {
  pipelineId: string | undefined;
  /** `mp.<id>.` or '' (seed names). */
  subjectPrefix: string;
  streams: Record<StreamRole, StreamName>;
  tickSubject(symbol: string): string;
  barSubject(symbol: string, timeframe: Timeframe): string;
  /** Filter of every bar of one timeframe (all symbols). */
  barFilter(timeframe: Timeframe): string;
  dlqSubject(originalSubject: string): string;
  /** events.feed_gap: see FEED_GAP_SUBJECT. */
  feedGapSubject: string;
  /** events.coverage: see COVERAGE_SUBJECT. */
  coverageSubject: string;
  /** Prefix of the request inboxes (replies of JetStream API calls and publish acks). */
  inboxPrefix: string;
  /** Scope of every message id: two pipelines never produce the same id. */
  idScope: string;
}

export function pipelineNames(identity: PipelineIdentity): PipelineNames {
  const id = identity.pipelineId || undefined;
  const prefix = id ? `mp.${id}.` : '';
  const stream = (role: StreamRole): StreamName =>
    id ? { name: `${SEED_STREAMS[role].name}_${id}`, subjects: [`${prefix}${role}.>`] } : SEED_STREAMS[role];
  return {
    pipelineId: id,
    tenantId: identity.tenantId,
    subjectPrefix: prefix,
    streams: { ticks: stream('ticks'), bars: stream('bars'), dlq: stream('dlq'), events: stream('events') },
    tickSubject: (symbol) => `${prefix}ticks.${subjectToken(symbol)}`,
    barSubject: (symbol, timeframe) => `${prefix}bars.${subjectToken(symbol)}.${timeframe}`,
    barFilter: (timeframe) => `${prefix}bars.*.${timeframe}`,
    dlqSubject: (original) =>
      `${prefix}dlq.${prefix && original.startsWith(prefix) ? original.slice(prefix.length) : original}`,
    feedGapSubject: `${prefix}events.feed_gap`,
    coverageSubject: `${prefix}events.coverage`,
    inboxPrefix: id ? `_INBOX_${id}` : '_INBOX',
    idScope: id ? `${id}/${identity.tenantId}` : identity.tenantId,
  };
}

/** The seed's names, tenant `system`: a lone pipeline run with the workloads' defaults. */
export const SEED_NAMES = pipelineNames({ tenantId: 'system' });

export const STREAMS = SEED_NAMES.streams;

export function tickSubject(symbol: string): string {
  return SEED_NAMES.tickSubject(symbol);
}

export function barSubject(symbol: string, timeframe: Timeframe): string {
  return SEED_NAMES.barSubject(symbol, timeframe);
}

export function dlqSubject(originalSubject: string): string {
  return SEED_NAMES.dlqSubject(originalSubject);
}

/**
 * `events.feed_gap` (stream MARKET_EVENTS; prefixed per pipeline like every subject): the
 * collector publishes one message (messages.ts feedGapSchema, with its tenant) for every span
 * of quotes it knows it missed, either because the WebSocket was disconnected or because its
 * in-memory buffer overflowed while NATS was unreachable. The pipeline's own gap filler
 * consumes it and repairs the bars of those symbols and times.
 */
export const FEED_GAP_SUBJECT = SEED_NAMES.feedGapSubject;

/**
 * `events.coverage` (stream MARKET_EVENTS): the collector's coverage markers (messages.ts
 * coverageSchema): "this pipeline saw every quote of these symbols from..to, and every one
 * of them is in the ticks stream at or below sequence tick_seq". The bridge stores them in
 * PostgreSQL `feed_coverage`; the aggregator builds a bar as complete only from covered,
 * committed time (README "Coverage, watermark and precedence").
 */
export const COVERAGE_SUBJECT = SEED_NAMES.coverageSubject;

export const KAFKA_TOPICS = { ticks: 'tick_archive', bars: 'aggregate_archive' } as const;

/**
 * Kafka headers of every archived record: which tenant and pipeline it belongs to (topics
 * may be shared by several pipelines; the value's tenant_id says the same).
 */
export const KAFKA_TENANT_HEADER = 'mp-tenant-id';
export const KAFKA_PIPELINE_HEADER = 'mp-pipeline-id';

export function kafkaHeaders(names: Pick<PipelineNames, 'tenantId' | 'pipelineId'>): Record<string, string> {
  return {
    [KAFKA_TENANT_HEADER]: names.tenantId,
    ...(names.pipelineId ? { [KAFKA_PIPELINE_HEADER]: names.pipelineId } : {}),
  };
}

/**
 * Kafka key of a tick: the symbol's token (EURUSD), so one symbol stays in one partition.
 * Unchanged by tenant and pipeline (a shared topic keeps each symbol's order across an
 * upgrade); who a record belongs to is in its headers (kafkaHeaders) and its value's tenant_id.
 */
export function tickKafkaKey(symbol: string): string {
  return subjectToken(symbol);
}

/** Kafka key of a bar: symbol and timeframe, so one bar series stays in one partition. */
export function barKafkaKey(symbol: string, timeframe: Timeframe): string {
  return `${subjectToken(symbol)}.${timeframe}`;
}

/**
 * The durable consumers a relay (a pipeline whose source is another pipeline) keeps on its
 * source's streams: one on the source's ticks (filtered to the relay's symbols), one on its
 * feed-gap events, one on its coverage markers. Named after the relay, so several relays of one source never share one.
 */
export function relayConsumers(
  source: Pick<PipelineNames, 'streams'>,
  relay: Pick<PipelineNames, 'pipelineId'>,
): Record<'ticks' | 'gaps' | 'coverage', { stream: string; durable: string }> {
  const id = relay.pipelineId ?? 'seed';
  return {
    ticks: { stream: source.streams.ticks.name, durable: `relay-${id}` },
    gaps: { stream: source.streams.events.name, durable: `relay-${id}-gaps` },
    coverage: { stream: source.streams.events.name, durable: `relay-${id}-coverage` },
  };
}

/** The names of the pipeline a workload's configuration describes (PIPELINE_ID, TENANT_ID). */
export function pipelineNamesOf(config: {
  PIPELINE_ID?: string | undefined;
  TENANT_ID: string;
}): PipelineNames {
  return pipelineNames({ pipelineId: config.PIPELINE_ID, tenantId: config.TENANT_ID });
}
