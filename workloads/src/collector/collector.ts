// The collector: Polygon forex quotes → ticks on NATS JetStream `ticks.<SYM>`, each one
// held in memory until JetStream confirmed it. What it knows it missed (disconnects, ticks
// dropped on a full buffer) is published as `events.feed_gap` for the gap filler.
//
// Overflow policy. While NATS is unreachable ticks wait in a bounded in-memory buffer
// (COLLECTOR_BUFFER_MAX_TICKS). When it is full the collector drops the newest ticks,
// counts them (ticks_dropped_total{reason="buffer_full"}) and records the dropped time span
// per symbol as a buffer_overflow feed gap, which the gap filler repairs from Polygon's
// REST bars. The alternative, back-pressure (stop reading the WebSocket), does not keep
// the data either: Polygon buffers for a slow reader only briefly, then disconnects it as
// slow_consumer, and what it dropped is not even recorded. Dropping the newest (rather
// than the oldest) keeps the buffer one contiguous, ordered run of quotes and makes each
// gap a single span per symbol.
import { createHash } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Registry } from 'prom-client';
import {
  coverageMessageId,
  coverageSchema,
  feedGapMessageId,
  feedGapSchema,
  type FeedGap,
} from '../contracts/messages.js';
import { pipelineNamesOf, type PipelineNames } from '../contracts/subjects.js';
import { ConfirmedPublishQueue, type QueuedMessage } from '../nats/confirmed-queue.js';
import { connectPipelineNats, type NatsHandle } from '../nats/connection.js';
import { publishDeadLetter } from '../nats/dead-letter.js';
import { ensureStreams, type StreamSettings } from '../nats/streams.js';
import { Backoff, sleep } from '../runtime/backoff.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import type { Logger } from '../runtime/logger.js';
import type { CollectorConfig } from './config.js';
import { CoverageTracker, type CoverageSpan } from './coverage.js';
import { DisconnectGaps, OverflowGaps } from './feed-gaps.js';
import {
  createCollectorMetrics,
  eventTypeLabel,
  type CollectorMetrics,
  type SymbolStats,
} from './metrics.js';
import { PolygonAuthError, PolygonFeed, type FeedListener } from './polygon-feed.js';
import type { MalformedEvent, Quote, RejectedQuote } from './polygon-frames.js';
import { TickEncoder, type OutgoingTick } from './quote-to-tick.js';
import { SilenceWatch } from './silence-watch.js';

export const SERVICE = 'collector';

/** Something that runs beside the collector on its NATS connection (the Kafka tick archiver). */
export interface Companion {
  stop(): Promise<void>;
}

export interface CompanionContext {
  config: CollectorConfig;
  nats: NatsHandle;
  log: Logger;
  registry: Registry;
}

export interface CollectorOptions {
  config: CollectorConfig;
  log: Logger;
  registry: Registry;
  /** Whether the forex market is open at a time (silence outside market hours is normal). */
  isMarketOpen: (ms: number) => boolean;
  /** Started once NATS is ready, stopped after the feed and the buffer. */
  startCompanion?: (context: CompanionContext) => Promise<Companion>;
  /**
   * The clock of coverage markers (default Date.now). It must be the quotes' clock: tests
   * that run the simulator on a shifted clock give the collector the same one.
   */
  clock?: () => number;
}

/** Exit codes of the collector process. */
export const EXIT_OK = 0;
export const EXIT_AUTH_FAILED = 1;

const EVENT_QUEUE_CAPACITY = 10_000;
/** One confirmation in this many goes into the publish latency histogram. */
export const PUBLISH_LATENCY_SAMPLE = 16;
const DEAD_LETTER_BACKLOG = 1000;

export class Collector {
  /** Resolves with the process exit code once the collector has stopped. */
  readonly done: Promise<number>;
  private resolveDone!: (code: number) => void;
  private readonly log: Logger;
  private readonly config: CollectorConfig;
  private readonly metrics: CollectorMetrics;
  private readonly throttle: LogThrottle;
  private readonly encoder: TickEncoder;
  /** This pipeline's subjects, streams and id scope (PIPELINE_ID, TENANT_ID). */
  private readonly names: PipelineNames;
  private readonly stats = new Map<string, SymbolStats>();
  private readonly disconnects: DisconnectGaps;
  private readonly overflow = new OverflowGaps();
  private readonly coverage: CoverageTracker;
  private readonly clock: () => number;
  /** Subscribed and not disconnected since (coverage may reopen after a dropped tick). */
  private feedUp = false;
  private coverageTimer: NodeJS.Timeout | undefined;
  private coverageSending: Promise<void> = Promise.resolve();
  private readonly silence: SilenceWatch;
  private readonly unknownTypes = new Set<string>();
  private readonly feedStop = new AbortController();
  /** Aborted when the shutdown flush time is over: pending retries give up. */
  private readonly giveUp = new AbortController();
  private readonly deadLetters = new Set<Promise<void>>();
  private nats: NatsHandle | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private ticks: ConfirmedPublishQueue<OutgoingTick> | undefined;
  private events: ConfirmedPublishQueue<QueuedMessage> | undefined;
  private feed: PolygonFeed | undefined;
  private feedRun: Promise<void> | undefined;
  private companion: Companion | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private exitCode = EXIT_OK;
  private streamsRepair: Promise<void> | undefined;
  private published = 0;
  private duplicates = 0;

  constructor(private readonly options: CollectorOptions) {
    this.config = options.config;
    this.log = options.log;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.throttle = new LogThrottle(this.log);
    this.names = pipelineNamesOf(this.config);
    this.encoder = new TickEncoder(this.config.PIP_SIZES, this.names);
    for (const symbol of this.config.SYMBOLS) this.statsOf(symbol);
    this.disconnects = new DisconnectGaps(this.config.SYMBOLS);
    this.clock = options.clock ?? Date.now;
    this.coverage = new CoverageTracker(this.config.SYMBOLS, this.config.COLLECTOR_COVERAGE_SKEW_MS);
    this.silence = new SilenceWatch(
      this.config.SYMBOLS,
      this.config.COLLECTOR_STALE_AFTER_SECONDS * 1000,
      options.isMarketOpen,
      Date.now(),
    );
    this.metrics = createCollectorMetrics(options.registry, {
      symbolStats: () => this.stats,
      bufferDepth: () => this.ticks?.depth ?? 0,
      silent: (symbol) => this.silence.isSilent(symbol),
      connected: () => this.feed?.notReady() === undefined,
      marketOpen: () => options.isMarketOpen(Date.now()),
      published: () => ({ confirmed: this.published, duplicates: this.duplicates }),
    });
  }

  /** Undefined when authenticated, subscribed and connected to NATS; else why not. */
  notReady(): string | undefined {
    if (!this.nats || !this.feed) return 'starting';
    return this.nats.notReady() ?? this.feed.notReady();
  }

  /** Connects to NATS, then to Polygon. Resolves once the feed runs (not once subscribed). */
  async start(): Promise<void> {
    const { config, log } = this;
    this.nats = await connectPipelineNats(config, this.names, 'market-pipeline-collector', log);
    this.js = jetstream(this.nats.nc);
    this.jsm = await jetstreamManager(this.nats.nc);
    await ensureStreams(this.jsm, this.streamSettings(), this.names);
    if (this.stopping) return;

    this.ticks = new ConfirmedPublishQueue<OutgoingTick>(this.nats.nc, {
      inboxPrefix: this.names.inboxPrefix,
      capacity: config.COLLECTOR_BUFFER_MAX_TICKS,
      window: config.COLLECTOR_PUBLISH_WINDOW,
      ackTimeoutMs: config.COLLECTOR_PUBLISH_TIMEOUT_MS,
      onConfirmed: (_tick, duplicate, seconds) => {
        // A sample of the latencies: observing every tick cost ~3% of the collector's CPU.
        if (this.published++ % PUBLISH_LATENCY_SAMPLE === 0) this.metrics.publishLatency.observe(seconds);
        if (duplicate) this.duplicates++;
      },
      onSendFailed: (reason, noStream) => this.publishFailed('ticks', reason, noStream),
    });
    this.events = new ConfirmedPublishQueue<QueuedMessage>(this.nats.nc, {
      inboxPrefix: this.names.inboxPrefix,
      capacity: EVENT_QUEUE_CAPACITY,
      window: 64,
      ackTimeoutMs: config.COLLECTOR_PUBLISH_TIMEOUT_MS,
      onSendFailed: (reason, noStream) => this.publishFailed('events', reason, noStream),
    });

    if (this.options.startCompanion) {
      this.companion = await this.options.startCompanion({
        config,
        nats: this.nats,
        log,
        registry: this.options.registry,
      });
    }
    if (this.stopping) return;

    this.feed = new PolygonFeed(
      {
        url: config.POLYGON_WS_URL,
        apiKey: config.POLYGON_API_KEY,
        symbols: config.SYMBOLS,
        reconnectMinMs: config.COLLECTOR_RECONNECT_MIN_MS,
        reconnectMaxMs: config.COLLECTOR_RECONNECT_MAX_MS,
        evictedReconnectMs: config.COLLECTOR_EVICTED_RECONNECT_MS,
        authTimeoutMs: config.COLLECTOR_AUTH_TIMEOUT_MS,
      },
      this.listener(),
      log,
    );
    this.feedRun = this.feed.run(this.feedStop.signal).catch((error: unknown) => {
      if (error instanceof PolygonAuthError) {
        log.fatal({ err: error.message }, 'stopping: Polygon refused POLYGON_API_KEY');
        this.exitCode = EXIT_AUTH_FAILED;
      } else {
        log.fatal({ err: error }, 'stopping: the Polygon feed failed');
        this.exitCode = 1;
      }
      void this.stop();
    });

    const staleMs = config.COLLECTOR_STALE_AFTER_SECONDS * 1000;
    this.silenceTimer = setInterval(() => this.checkSilence(), Math.min(30_000, Math.max(1000, staleMs / 4)));
    this.silenceTimer.unref();
    this.coverageTimer = setInterval(() => this.cutCoverage(), config.COLLECTOR_COVERAGE_INTERVAL_MS);
    this.coverageTimer.unref();
  }

  /**
   * Graceful stop: close the WebSocket (no new quotes), report open gaps, publish what is
   * buffered (for at most COLLECTOR_SHUTDOWN_FLUSH_MS), stop the companion, close NATS.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopSteps().then(
      () => this.resolveDone(this.exitCode),
      (error: unknown) => {
        this.log.error({ err: error }, 'collector stop failed');
        this.resolveDone(this.exitCode || 1);
      },
    );
    return this.stopping;
  }

  private async stopSteps(): Promise<void> {
    clearInterval(this.silenceTimer);
    clearInterval(this.coverageTimer);
    this.feedStop.abort();
    await this.feedRun;
    const feedClosedAt = this.clock();

    const now = Date.now();
    const open = [this.disconnects.closeAt(now), ...this.overflow.closeAll()];
    for (const span of open) if (span) this.recordGap(span);

    const deadline = Date.now() + this.config.COLLECTOR_SHUTDOWN_FLUSH_MS;
    const flushed = (await this.ticks?.flush(deadline - Date.now())) ?? true;
    // Coverage up to the close only if every tick was confirmed: dropped ticks are not covered.
    await this.coverageSending;
    if (this.ticks) {
      const span = this.coverage.final(feedClosedAt, this.ticks, flushed);
      if (span) await this.sendCoverage(span);
    }
    await this.events?.flush(Math.max(0, deadline - Date.now()));
    const giveUpTimer = setTimeout(() => this.giveUp.abort(), Math.max(0, deadline - Date.now()));
    await Promise.all(this.deadLetters);
    clearTimeout(giveUpTimer);
    this.giveUp.abort();

    const lostTicks = this.ticks?.close() ?? [];
    const lostEvents = this.events?.close() ?? [];
    if (lostTicks.length > 0) {
      this.metrics.dropped.inc({ reason: 'shutdown' }, lostTicks.length);
      this.log.error(
        {
          ticks: lostTicks.length,
          firstQuoteMs: Math.min(...lostTicks.map((t) => t.timestampMs)),
          lastQuoteMs: Math.max(...lostTicks.map((t) => t.timestampMs)),
        },
        'shutdown: ticks not confirmed by JetStream within COLLECTOR_SHUTDOWN_FLUSH_MS are lost',
      );
    }
    if (lostEvents.length > 0) {
      this.log.error({ events: lostEvents.map((e) => e.data) }, 'shutdown: feed_gap events not confirmed');
    }
    this.log.info({ flushed, published: this.published }, 'collector stopped publishing');

    await this.companion?.stop();
    if (this.nats && !this.nats.nc.isClosed()) {
      // Draining needs the server; while disconnected, just close.
      if (this.nats.notReady()) await this.nats.nc.close();
      else await this.nats.nc.drain().catch(() => this.nats?.nc.close());
    }
  }

  private listener(): FeedListener {
    return {
      quotes: (quotes, receivedAtMs) => this.onQuotes(quotes, receivedAtMs),
      rejected: (rejected) => rejected.forEach((r) => this.deadLetter(r)),
      malformed: (events, wholeFrame) => this.onMalformed(events, wholeFrame),
      unknownEvents: (types) => {
        for (const ev of types) this.metrics.unknownEvents.inc({ ev: eventTypeLabel(ev, this.unknownTypes) });
      },
      connectionLost: (_reason, atMs) => {
        this.disconnects.connectionLost(atMs);
        this.feedUp = false;
        this.coverage.broken();
      },
      subscribed: () => {
        this.feedUp = true;
        this.coverage.started(this.clock());
      },
      reconnecting: (reason, delayMs) => {
        this.metrics.reconnects.inc({ reason });
        this.log.info({ reason, delayMs }, 'reconnecting to Polygon');
      },
    };
  }

  /** The hot path: runs for every frame, so no logging and no allocation it can avoid. */
  private onQuotes(quotes: Quote[], receivedAtMs: number): void {
    const ingestedAt = new Date(receivedAtMs).toISOString();
    const ticks = this.ticks!;
    let dropped = 0;
    for (const quote of quotes) {
      const stats = this.statsOf(quote.symbol);
      stats.quotes++;
      stats.lastReceivedMs = receivedAtMs;
      stats.lastQuoteMs = quote.timestampMs;
      if (this.disconnects.open) {
        const span = this.disconnects.quote(quote.timestampMs);
        if (span) this.recordGap(span);
      } else this.disconnects.quote(quote.timestampMs);

      const tick = this.encoder.encode(quote, ingestedAt);
      if (ticks.offer(tick)) {
        if (this.overflow.openCount > 0) {
          const span = this.overflow.accepted(quote.symbol);
          if (span) this.recordGap(span);
        }
      } else {
        dropped++;
        this.overflow.dropped(quote.symbol, quote.timestampMs);
      }
    }
    if (dropped > 0) this.coverage.broken();
    else if (this.feedUp && !this.coverage.open) this.coverage.started(this.clock());
    if (dropped > 0) {
      this.metrics.dropped.inc({ reason: 'buffer_full' }, dropped);
      this.throttle.write(
        'error',
        'buffer_full',
        { bufferMaxTicks: ticks.capacity, droppedInFrame: dropped },
        'tick buffer full (NATS unreachable?): dropping the newest ticks; the span is reported as a feed gap',
      );
    }
  }

  private recordGap(span: Omit<FeedGap, 'detected_at'>): void {
    const gap = feedGapSchema.parse({
      tenant_id: this.names.tenantId,
      ...span,
      detected_at: new Date().toISOString(),
    });
    this.metrics.feedGaps.inc({ kind: gap.kind });
    this.log.warn({ gap }, 'feed gap recorded');
    const queued = this.events?.offer({
      subject: this.names.feedGapSubject,
      data: JSON.stringify(gap),
      msgId: feedGapMessageId(gap, this.names.idScope),
    });
    if (!queued) {
      this.metrics.dropped.inc({ reason: 'event_buffer_full' });
      this.log.error({ gap }, 'feed_gap event could not be queued (event buffer full)');
    }
  }

  /** Every COLLECTOR_COVERAGE_INTERVAL_MS: send the confirmed checkpoint, take the next one. */
  private cutCoverage(): void {
    if (!this.ticks || this.stopping) return;
    const span = this.coverage.tick(this.clock(), this.ticks);
    if (span) this.coverageSending = this.coverageSending.then(() => this.sendCoverage(span));
  }

  /** Queues a marker; tick_seq is the ticks stream's last sequence, read after the confirmation. */
  private async sendCoverage(span: CoverageSpan): Promise<void> {
    let tickSeq: number;
    try {
      tickSeq = (await this.jsm!.streams.info(this.names.streams.ticks.name)).state.last_seq;
    } catch (error) {
      // The next checkpoint covers this span too (a segment's markers all start at its start).
      this.log.warn({ err: (error as Error).message }, 'coverage marker skipped: ticks stream info failed');
      return;
    }
    const marker = coverageSchema.parse({
      tenant_id: this.names.tenantId,
      ...span,
      tick_seq: tickSeq,
      emitted_at: new Date().toISOString(),
    });
    this.metrics.coveredUntil.set(marker.to_ms / 1000);
    const queued = this.events?.offer({
      subject: this.names.coverageSubject,
      data: JSON.stringify(marker),
      msgId: coverageMessageId(marker, this.names.idScope),
    });
    if (!queued) this.log.warn({ marker }, 'coverage marker could not be queued (event buffer full)');
  }

  private deadLetter(rejected: RejectedQuote): void {
    this.metrics.deadLettered.inc();
    this.throttle.write(
      'warn',
      'dead_letter',
      { symbol: rejected.symbol, reason: rejected.reason },
      'quote fails the tick contract; sent to the dead-letter subject',
    );
    if (this.deadLetters.size >= DEAD_LETTER_BACKLOG || this.giveUp.signal.aborted) {
      this.metrics.dropped.inc({ reason: 'dead_letter_backlog' });
      return;
    }
    const sending: Promise<void> = this.sendDeadLetter(rejected).finally(() =>
      this.deadLetters.delete(sending),
    );
    this.deadLetters.add(sending);
  }

  private async sendDeadLetter(rejected: RejectedQuote): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
    const letter = {
      subject: this.names.tickSubject(rejected.symbol),
      data: new TextEncoder().encode(rejected.raw),
      reason: rejected.reason,
      // The same bad quote (a repeated frame) is one dead letter.
      messageId: `${this.names.idScope}|q:${createHash('sha1').update(rejected.raw).digest('base64url')}`,
      service: SERVICE,
    };
    while (!this.giveUp.signal.aborted) {
      try {
        await publishDeadLetter(this.js!, letter, this.names);
        return;
      } catch (error) {
        this.publishFailed('dead_letters', (error as Error).message, false);
        await sleep(backoff.next(), this.giveUp.signal);
      }
    }
    this.metrics.dropped.inc({ reason: 'dead_letter_unconfirmed' });
  }

  private onMalformed(events: MalformedEvent[], wholeFrame: boolean): void {
    this.metrics.malformed.inc({ kind: wholeFrame ? 'frame' : 'event' }, wholeFrame ? 1 : events.length);
    const first = events[0]!;
    this.throttle.write(
      'warn',
      wholeFrame ? 'malformed_frame' : 'malformed_event',
      { reason: first.reason, sample: first.sample },
      'ignoring malformed input from Polygon',
    );
  }

  private publishFailed(queue: string, reason: string, noStream: boolean): void {
    this.metrics.publishFailures.inc({ queue });
    this.throttle.write(
      'warn',
      `publish_failed_${queue}`,
      { queue, reason },
      'publish to JetStream failed; retrying',
    );
    // The stream can vanish (a NATS server restarted without its store): recreate it.
    if (noStream && !this.streamsRepair && this.jsm) {
      this.streamsRepair = ensureStreams(this.jsm, this.streamSettings(), this.names)
        .then(() => this.log.info('JetStream streams re-created'))
        .catch((error: Error) => this.log.warn({ err: error.message }, 'could not re-create the streams'))
        .finally(() => setTimeout(() => (this.streamsRepair = undefined), 5000).unref());
    }
  }

  private checkSilence(): void {
    const changes = this.silence.check(Date.now(), (symbol) => this.stats.get(symbol)?.lastReceivedMs);
    for (const change of changes) {
      if (change.silent) {
        this.log.warn(
          { symbol: change.symbol, silentForSeconds: Math.round(change.silentForMs / 1000) },
          'no quotes for a subscribed symbol while the forex market is open (wrong subscription? feed down?)',
        );
      } else {
        this.log.info({ symbol: change.symbol }, 'symbol no longer silent');
      }
    }
  }

  private statsOf(symbol: string): SymbolStats {
    let stats = this.stats.get(symbol);
    if (!stats) {
      stats = { quotes: 0, lastReceivedMs: undefined, lastQuoteMs: undefined };
      this.stats.set(symbol, stats);
    }
    return stats;
  }

  private streamSettings(): StreamSettings {
    return {
      maxAgeMs: this.config.NATS_STREAM_MAX_AGE_SECONDS * 1000,
      duplicateWindowMs: this.config.NATS_DUPLICATE_WINDOW_SECONDS * 1000,
    };
  }
}
