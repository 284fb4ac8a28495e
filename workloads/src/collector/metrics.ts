// The collector's Prometheus metrics. Per-tick numbers are plain fields the hot path bumps
// (SymbolStats); prom-client reads them only when scraped, so a quote costs no label
// hashing.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const PREFIX = 'market_pipeline_collector_';

export interface SymbolStats {
  quotes: number;
  /** Wall-clock time (ms) of the last quote received. */
  lastReceivedMs: number | undefined;
  /** Quote time (Polygon `t`, ms) of the last quote received. */
  lastQuoteMs: number | undefined;
}

export interface CollectorMetricSources {
  symbolStats(): Iterable<[string, SymbolStats]>;
  bufferDepth(): number;
  silent(symbol: string): boolean;
  connected(): boolean;
  /** Whether the forex market is open now, by the collector's market-hours calendar. */
  marketOpen(): boolean;
  published(): { confirmed: number; duplicates: number };
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;

export function createCollectorMetrics(registry: Registry, sources: CollectorMetricSources) {
  const registers = [registry];
  return {
    quotesReceived: new Counter({
      name: `${PREFIX}quotes_received_total`,
      help: 'Quotes received from Polygon, by symbol',
      labelNames: ['symbol'],
      registers,
      collect() {
        this.reset();
        for (const [symbol, s] of sources.symbolStats()) this.inc({ symbol }, s.quotes);
      },
    }),
    lastQuoteReceived: new Gauge({
      name: `${PREFIX}last_quote_received_timestamp_seconds`,
      help: 'Wall-clock time the last quote of the symbol arrived (alert on time() minus this)',
      labelNames: ['symbol'],
      registers,
      collect() {
        for (const [symbol, s] of sources.symbolStats()) {
          if (s.lastReceivedMs !== undefined) this.set({ symbol }, s.lastReceivedMs / 1000);
        }
      },
    }),
    lastQuoteTime: new Gauge({
      name: `${PREFIX}last_quote_timestamp_seconds`,
      help: 'Quote time (Polygon t) of the last quote of the symbol',
      labelNames: ['symbol'],
      registers,
      collect() {
        for (const [symbol, s] of sources.symbolStats()) {
          if (s.lastQuoteMs !== undefined) this.set({ symbol }, s.lastQuoteMs / 1000);
        }
      },
    }),
    symbolSilent: new Gauge({
      name: `${PREFIX}symbol_silent`,
      help: '1 while a subscribed symbol has been silent past COLLECTOR_STALE_AFTER_SECONDS in market hours',
      labelNames: ['symbol'],
      registers,
      collect() {
        for (const [symbol] of sources.symbolStats()) this.set({ symbol }, sources.silent(symbol) ? 1 : 0);
      },
    }),
    ticksPublished: new Counter({
      name: `${PREFIX}ticks_published_total`,
      help: 'Ticks confirmed by JetStream (duplicates included: the server already had them)',
      registers,
      collect() {
        this.reset();
        this.inc(sources.published().confirmed);
      },
    }),
    ticksDuplicate: new Counter({
      name: `${PREFIX}ticks_duplicate_total`,
      help: 'Ticks JetStream reported as duplicates of a stored message (same id within its window)',
      registers,
      collect() {
        this.reset();
        this.inc(sources.published().duplicates);
      },
    }),
    publishLatency: new Histogram({
      name: `${PREFIX}publish_confirm_seconds`,
      help: 'Time from publishing a tick to its JetStream confirmation (one tick in 16 is observed)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    publishFailures: new Counter({
      name: `${PREFIX}publish_failures_total`,
      help: 'Publishes that failed or went unconfirmed and were retried',
      labelNames: ['queue'],
      registers,
    }),
    bufferDepth: new Gauge({
      name: `${PREFIX}buffer_depth`,
      help: 'Ticks held in memory until JetStream confirms them',
      registers,
      collect() {
        this.set(sources.bufferDepth());
      },
    }),
    dropped: new Counter({
      name: `${PREFIX}ticks_dropped_total`,
      help: 'Ticks not published, by reason (buffer_full: NATS unreachable too long; shutdown: unconfirmed at exit)',
      labelNames: ['reason'],
      registers,
    }),
    deadLettered: new Counter({
      name: `${PREFIX}dead_lettered_total`,
      help: 'Quotes sent to dlq.ticks.<SYM> because they fail the tick contract',
      registers,
    }),
    malformed: new Counter({
      name: `${PREFIX}malformed_total`,
      help: 'Unusable input from Polygon: whole frames (not a JSON array) or single events',
      labelNames: ['kind'],
      registers,
    }),
    unknownEvents: new Counter({
      name: `${PREFIX}unknown_events_total`,
      help: 'Events of a type the collector does not use, by ev',
      labelNames: ['ev'],
      registers,
    }),
    reconnects: new Counter({
      name: `${PREFIX}reconnects_total`,
      help: 'Reconnects to Polygon, by the reason the previous connection ended',
      labelNames: ['reason'],
      registers,
    }),
    feedGaps: new Counter({
      name: `${PREFIX}feed_gaps_total`,
      help: 'feed_gap events recorded, by kind',
      labelNames: ['kind'],
      registers,
    }),
    marketOpen: new Gauge({
      name: `${PREFIX}market_open`,
      help: '1 while the forex market is open by the collector calendar (alert rules gate silence on it)',
      registers,
      collect() {
        this.set(sources.marketOpen() ? 1 : 0);
      },
    }),
    coveredUntil: new Gauge({
      name: `${PREFIX}covered_until_seconds`,
      help: 'End of the last coverage marker sent (Unix seconds): quotes up to here are confirmed by JetStream',
      registers,
    }),
    connected: new Gauge({
      name: `${PREFIX}websocket_ready`,
      help: '1 while authenticated and subscribed to Polygon',
      registers,
      collect() {
        this.set(sources.connected() ? 1 : 0);
      },
    }),
  };
}

/** Label value for an event type from the wire: bounded, so a hostile feed cannot explode cardinality. */
export function eventTypeLabel(ev: string, seen: Set<string>, max = 20): string {
  if (seen.has(ev)) return ev;
  if (seen.size >= max || !/^[A-Za-z0-9_]{1,16}$/.test(ev)) return 'other';
  seen.add(ev);
  return ev;
}
