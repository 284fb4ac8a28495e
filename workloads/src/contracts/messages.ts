// The two messages of the pipeline, validated with zod on both sides of every hop
// (NATS, Kafka), and their deterministic ids.
import { z } from 'zod';
import { pipSizeOf, SYMBOL_PATTERN, symbolSchema, subjectToken, toPips, type PipSizes } from './symbols.js';
import { barEnd, timeframeSchema, type Timeframe } from './timeframes.js';
import { TENANT_ID_PATTERN, tenantIdSchema } from './subjects.js';

const finite = z.number().finite();
const epochMs = z.number().int().nonnegative();
const isoUtc = z.iso.datetime({ offset: true });

export const TICK_SOURCE = 'polygon_websocket';
export const BAR_SOURCES = ['live_aggregated', 'polygon_historical'] as const;
export type BarSource = (typeof BAR_SOURCES)[number];

/**
 * The tenant a message belongs to, set by its producer from TENANT_ID. The bridge stores a
 * message under this tenant only if it is the tenant the bridge serves (else: dead letter,
 * reason wrong_tenant). Optional only so that messages published before tenants were carried
 * (still in a stream at upgrade) stay readable; see bridge/route.ts for when those are accepted.
 */
const tenantField = tenantIdSchema.optional();

export const tickSchema = z
  .object({
    tenant_id: tenantField,
    symbol: symbolSchema,
    bid: finite.positive(),
    ask: finite.positive(),
    mid: finite.positive(),
    /** ask - bid in pips of the symbol. */
    spread: finite,
    timestamp_ms: epochMs,
    exchange: z.number().int(),
    source: z.literal(TICK_SOURCE),
    event_type: z.literal('quote'),
    /** When the collector received the quote (ISO-8601 UTC). */
    ingested_at: isoUtc,
  })
  .strict();
export type Tick = z.infer<typeof tickSchema>;

const TICK_KEYS = 10;
const TICK_KEYS_WITH_TENANT = 11;
/** An ISO-8601 UTC time as toISOString() writes it, on a day every month has (01–28). */
const PLAIN_ISO_UTC =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/**
 * The tick as the collector writes it, recognised without zod (which costs as much per
 * tick as JSON.parse; the bridge's hot path, bench/bridge-ingest.ts). It accepts a subset
 * of what tickSchema accepts (the unit tests hold them side by side): plain numbers and the
 * exact keys; a day 29–31 or any other spelling of a time is left to the schema, which
 * decides and explains.
 */
export function isPlainTick(value: unknown): value is Tick {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const t = value as Record<string, unknown>;
  const { symbol, bid, ask, mid, spread, timestamp_ms, exchange, ingested_at, tenant_id } = t;
  const keys = Object.keys(t).length;
  return (
    (tenant_id === undefined
      ? keys === TICK_KEYS
      : keys === TICK_KEYS_WITH_TENANT &&
        typeof tenant_id === 'string' &&
        TENANT_ID_PATTERN.test(tenant_id) &&
        tenant_id.length <= 63) &&
    typeof symbol === 'string' &&
    typeof bid === 'number' &&
    typeof ask === 'number' &&
    typeof mid === 'number' &&
    typeof spread === 'number' &&
    typeof timestamp_ms === 'number' &&
    typeof exchange === 'number' &&
    typeof ingested_at === 'string' &&
    t.source === TICK_SOURCE &&
    t.event_type === 'quote' &&
    bid > 0 &&
    ask > 0 &&
    mid > 0 &&
    Number.isFinite(bid) &&
    Number.isFinite(ask) &&
    Number.isFinite(mid) &&
    Number.isFinite(spread) &&
    Number.isSafeInteger(timestamp_ms) &&
    timestamp_ms >= 0 &&
    Number.isSafeInteger(exchange) &&
    SYMBOL_PATTERN.test(symbol) &&
    PLAIN_ISO_UTC.test(ingested_at)
  );
}

/** A tick from parsed JSON: the plain form without zod (the hot path), anything else by the schema. */
export function parseTick(value: unknown): z.ZodSafeParseResult<Tick> {
  return isPlainTick(value) ? { success: true, data: value } : tickSchema.safeParse(value);
}

export const barSchema = z
  .object({
    tenant_id: tenantField,
    symbol: symbolSchema,
    timeframe: timeframeSchema,
    /** Bar start. */
    timestamp_ms: epochMs,
    open: finite.positive(),
    high: finite.positive(),
    low: finite.positive(),
    close: finite.positive(),
    /** Live bars: number of ticks; historical bars: Polygon's `v` (quote updates). */
    volume: z.number().nonnegative(),
    vwap: finite.positive(),
    range_pips: finite.nonnegative(),
    body_pips: finite.nonnegative(),
    start_time: isoUtc,
    end_time: isoUtc,
    source: z.enum(BAR_SOURCES),
    event_type: z.literal('ohlcv'),
    /** When the producer built this version of the bar (ISO-8601 UTC). */
    ingested_at: isoUtc,
    /**
     * Only on polygon_historical bars, and only `true`: the bar repairs a recorded feed gap
     * (events.feed_gap). The live bar of that window was built while the collector missed
     * quotes, so it is incomplete and this bar must replace it (see barVersion).
     */
    feed_gap_repair: z.literal(true).optional(),
    /**
     * Only on live_aggregated bars, and only `true`: the aggregator built this bar from a
     * window that was not wholly covered by the collector (restart, outage, the time before
     * the pipeline started) or whose ticks were not all committed yet (the bridge's
     * watermark). It ranks below every other version (barVersion), so any complete bar,
     * live or downloaded, replaces it, and the gap filler treats it as missing.
     */
    partial: z.literal(true).optional(),
  })
  .strict()
  .refine((b) => b.feed_gap_repair === undefined || b.source === 'polygon_historical', {
    message: 'only a polygon_historical bar can be a feed_gap_repair',
    path: ['feed_gap_repair'],
  })
  .refine((b) => b.partial === undefined || b.source === 'live_aggregated', {
    message: 'only a live_aggregated bar can be partial',
    path: ['partial'],
  })
  .refine((b) => b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close), {
    message: 'OHLC out of order: low must be <= open, close <= high',
    path: ['high'],
  })
  .refine((b) => Date.parse(b.start_time) === b.timestamp_ms, {
    message: 'start_time must equal timestamp_ms',
    path: ['start_time'],
  });
export type Bar = z.infer<typeof barSchema>;

/** The measured part of a bar; everything else in the message follows from it. */
export interface Ohlcv {
  symbol: string;
  timeframe: Timeframe;
  startMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
}

export interface BarOrigin {
  /** The producer's TENANT_ID, carried in the message. */
  tenantId: string;
  source: BarSource;
  /** ingested_at: the version of the bar within its rank (barVersion). */
  ingestedAt: Date;
  pipSizes: PipSizes;
  /** A repair of a recorded feed gap, outranking live bars (barVersion). */
  feedGapRepair?: boolean;
  /** A live bar built from an incompletely covered or not yet committed window (barVersion). */
  partial?: boolean;
}

/**
 * The bar message of an OHLCV bar, its derived fields (pips, start and end times) computed
 * the one way for live and historical bars alike. Validated: a bar that breaks the
 * contract (a high below the open, say) throws here, not downstream.
 */
export function ohlcvBar(b: Ohlcv, origin: BarOrigin): Bar {
  const pip = pipSizeOf(b.symbol, origin.pipSizes);
  return barSchema.parse({
    tenant_id: origin.tenantId,
    symbol: b.symbol,
    timeframe: b.timeframe,
    timestamp_ms: b.startMs,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    vwap: b.vwap,
    range_pips: toPips(b.high - b.low, pip),
    body_pips: toPips(Math.abs(b.close - b.open), pip),
    start_time: new Date(b.startMs).toISOString(),
    end_time: new Date(barEnd(b.timeframe, b.startMs)).toISOString(),
    source: origin.source,
    event_type: 'ohlcv',
    ingested_at: origin.ingestedAt.toISOString(),
    ...(origin.feedGapRepair ? { feed_gap_repair: true } : {}),
    ...(origin.partial ? { partial: true } : {}),
  });
}

/**
 * A span of quotes the collector knows it did not publish (events.feed_gap): while its
 * WebSocket was down ('disconnect') or while its buffer was full ('buffer_overflow').
 * Times are quote times (Polygon `t`, ms), inclusive at both ends.
 */
export const FEED_GAP_KINDS = ['disconnect', 'buffer_overflow'] as const;
export const feedGapSchema = z
  .object({
    /** The collector's tenant: a gap filler acts only on its own tenant's gaps. */
    tenant_id: tenantField,
    kind: z.enum(FEED_GAP_KINDS),
    symbols: z.array(symbolSchema).min(1),
    start_ms: epochMs,
    end_ms: epochMs,
    /** When the collector closed the span (ISO-8601 UTC). */
    detected_at: isoUtc,
  })
  .strict()
  .refine((g) => g.end_ms >= g.start_ms, { message: 'end_ms must not be before start_ms', path: ['end_ms'] });
export type FeedGap = z.infer<typeof feedGapSchema>;

/**
 * A coverage marker (events.coverage): the collector (one process, one unbroken subscription:
 * `segment_id`) saw every quote of `symbols` from `from_ms` to `to_ms` (wall-clock ms, both
 * inclusive, the time of the quotes), and every tick it published for them is in the ticks
 * stream at a sequence <= `tick_seq`. A marker is sent only once JetStream confirmed every
 * tick received before `to_ms`, so a crash claims nothing it had not stored; markers of one
 * segment repeat with growing `to_ms` (the bridge keeps the largest).
 */
export const coverageSchema = z
  .object({
    tenant_id: tenantField,
    segment_id: z.string().min(1).max(200),
    symbols: z.array(symbolSchema).min(1),
    from_ms: epochMs,
    to_ms: epochMs,
    /** The ticks stream's last sequence once those ticks were confirmed (the watermark to wait for). */
    tick_seq: z.number().int().nonnegative(),
    /** When the collector sent it (ISO-8601 UTC). */
    emitted_at: isoUtc,
  })
  .strict()
  .refine((c) => c.to_ms >= c.from_ms, { message: 'to_ms must not be before from_ms', path: ['to_ms'] });
export type CoverageMarker = z.infer<typeof coverageSchema>;

/** Id of a coverage marker: the same marker re-sent is the same message. */
export function coverageMessageId(c: Pick<CoverageMarker, 'segment_id' | 'to_ms'>, scope: string): string {
  return `${scope}|c:${c.segment_id}:${c.to_ms}`;
}

/*
 * Message ids (Nats-Msg-Id, and the Kafka message-id header) start with the producing
 * pipeline's idScope (subjects.ts PipelineNames: `<tenant>` or `<pipeline id>/<tenant>`), so
 * two pipelines that see the same quote, or build the same bar, never produce the same id:
 * neither is dropped as the other's duplicate, wherever their messages meet.
 */

/** Id of a gap: the same span reported twice (a re-published event) gets the same id. */
export function feedGapMessageId(
  g: Pick<FeedGap, 'kind' | 'symbols' | 'start_ms' | 'end_ms'>,
  scope: string,
): string {
  return `${scope}|g:${g.kind}:${g.start_ms}:${g.end_ms}:${[...g.symbols].sort().map(subjectToken).join(',')}`;
}

/**
 * Id of a tick: the quote's identity. A replayed or re-published quote gets the same id
 * (JetStream drops it within the duplicate window, the database's unique key after that);
 * two different quotes in the same millisecond get different ids.
 */
export function tickMessageId(
  t: Pick<Tick, 'symbol' | 'timestamp_ms' | 'bid' | 'ask' | 'exchange'>,
  scope: string,
): string {
  return `${scope}|t:${subjectToken(t.symbol)}:${t.timestamp_ms}:${t.bid}:${t.ask}:${t.exchange}`;
}

/**
 * Id of one version of a bar: the bar's key plus its content. Re-publishing identical
 * content is recognised as the same message; a corrected bar (late ticks) is a new one,
 * and the database keeps the newest version of each key. A feed-gap repair is a different
 * message from a plain historical bar with the same values (it ranks higher: barVersion).
 */
export function barMessageId(
  b: Pick<
    Bar,
    | 'symbol'
    | 'timeframe'
    | 'timestamp_ms'
    | 'source'
    | 'open'
    | 'high'
    | 'low'
    | 'close'
    | 'volume'
    | 'feed_gap_repair'
    | 'partial'
  >,
  scope: string,
): string {
  // A partial bar and the complete bar with the same values are different messages: the
  // complete one must not be dropped as the partial one's duplicate.
  const source = b.feed_gap_repair ? `${b.source}+repair` : b.partial ? `${b.source}+partial` : b.source;
  return `${scope}|b:${subjectToken(b.symbol)}:${b.timeframe}:${b.timestamp_ms}:${source}:${b.open}:${b.high}:${b.low}:${b.close}:${b.volume}`;
}

/**
 * Precedence ranks of the versions of one bar (higher wins), the leading digit of barVersion:
 * - partial (0): a live_aggregated bar built from a window that was not wholly covered or
 *   not yet committed (barSchema `partial`); anything complete beats it, and a complete
 *   re-aggregation or a download replaces it whenever it comes;
 * - polygon_historical (1): historical data only fills gaps;
 * - live_aggregated (2): the pipeline's own bar beats a downloaded one;
 * - feed_gap_repair (3): a polygon_historical bar downloaded for a window in which the
 *   collector recorded a feed gap (disconnect, buffer overflow). Every live bar of that window
 *   lacks the quotes the collector missed (they can never arrive later), so the repair beats
 *   it, whether the live bar was written before or after the repair.
 */
export const BAR_RANK = {
  partial: 0n,
  polygon_historical: 1n,
  live_aggregated: 2n,
  feed_gap_repair: 3n,
} as const;

/** barVersion = rank × this + ms: room for build times until the year 33658. */
export const VERSION_RANK_UNIT = 10n ** 15n;

/**
 * Which version of a bar wins when the same key (tenant, symbol, timeframe, start) is
 * written more than once; ClickHouse keeps the row with the highest value
 * (ReplacingMergeTree version column): rank × 10^15 + the build time in ms (BAR_RANK).
 * Between ranks the rank decides; within one rank the most recently built version wins, so
 * a re-aggregation that picked up late ticks replaces the earlier bar, and a stale
 * redelivery never does. `version / 10^15` in ClickHouse gives back the rank.
 */
export function barVersion(b: Pick<Bar, 'source' | 'ingested_at' | 'feed_gap_repair' | 'partial'>): bigint {
  const rank = b.feed_gap_repair
    ? BAR_RANK.feed_gap_repair
    : b.partial
      ? BAR_RANK.partial
      : BAR_RANK[b.source];
  return rank * VERSION_RANK_UNIT + BigInt(Date.parse(b.ingested_at));
}
