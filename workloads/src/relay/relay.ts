// The relay: the collector of a pipeline whose source is another pipeline (README "One Polygon
// key, several pipelines"). Polygon allows one WebSocket per key, so one pipeline collects and
// the others relay from it: each relay reads the source pipeline's tick stream through its own
// durable consumer (filtered to its own symbols, read-only grants), re-stamps the tick with its
// own tenant and republishes it under its own names, with its own message id. It does the
// same with the source's feed-gap events (limited to its symbols), so its gap filler repairs
// what the source missed. And it carries the source's coverage markers (coverage.ts): for
// each, once every source tick of its symbols up to the marker's tick_seq is republished and
// confirmed, it sends its own marker (its tenant, its symbols, its own stream's sequence), so
// its aggregator publishes complete bars where the source's coverage reaches.
//
// Nothing lost or doubled across a restart: a source message is acked only after the
// relay's own publish of it was confirmed by JetStream. A crash in between redelivers it; its
// republished copy has the same message id (the quote's identity under the relay's scope),
// which JetStream drops within the duplicate window and the database's unique key after it.
// While the relay is down its durable keeps its place in the source's stream, so its own
// downtime costs nothing as long as the source's stream still holds the ticks
// (NATS_STREAM_MAX_AGE_SECONDS); ticks the source's stream dropped before the relay read them
// are reported as a feed gap of the relay's symbols (lostSpan).
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  coverageMessageId,
  coverageSchema,
  feedGapMessageId,
  feedGapSchema,
  parseTick,
  tickMessageId,
  type CoverageMarker,
  type FeedGap,
} from '../contracts/messages.js';
import { pipelineNames, pipelineNamesOf, relayConsumers, type PipelineNames } from '../contracts/subjects.js';
import { connectPipelineNats, type NatsHandle } from '../nats/connection.js';
import { publishDeadLetter } from '../nats/dead-letter.js';
import { ensureDurableConsumer, NS_PER_MS } from '../nats/durable-consumer.js';
import { publishConfirmed, type Outgoing } from '../nats/publish.js';
import { repliesFor, type Replies } from '../nats/wire-acks.js';
import { ensureStreams } from '../nats/streams.js';
import { Backoff, sleep } from '../runtime/backoff.js';
import { reasonOf } from '../runtime/failure.js';
import type { Logger } from '../runtime/logger.js';
import type { RelayConfig } from './config.js';
import { clipToRelayed, relayedSymbols, ticksRelayedThrough, type LostSpan } from './coverage.js';

export const SERVICE = 'relay';

export interface Relay {
  /** Stops pulling; republishes and acks what it holds; closes the connection. */
  stop(): Promise<void>;
  /** Settles when both loops have ended. */
  done: Promise<void>;
  /** Undefined when connected and reading the source; else why not (for /readyz). */
  notReady(): string | undefined;
  nats: NatsHandle;
}

const decoder = new TextDecoder();

/** The relay's metrics; exported for the chart's alert checks (test/packaging/exported-metrics.ts). */
export function createRelayMetrics(registry: Registry, sources: { sourceReady(): boolean }) {
  const registers = [registry];
  return {
    sourceReady: new Gauge({
      name: 'market_pipeline_relay_source_ready',
      help: "1 while the relay reads its source pipeline's streams (the relay's counterpart of collector_websocket_ready)",
      registers,
      collect() {
        this.set(sources.sourceReady() ? 1 : 0);
      },
    }),
    relayed: new Counter({
      name: 'market_pipeline_relay_messages_total',
      help: 'Source messages republished under this pipeline (duplicate: already stored, same id)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'market_pipeline_relay_dead_letters_total',
      help: "Source messages refused to this pipeline's dead-letter subject, by reason",
      labelNames: ['reason'],
      registers,
    }),
    lag: new Gauge({
      name: 'market_pipeline_relay_source_lag_messages',
      help: "Source messages not yet relayed (pending + unacked on the relay's durable)",
      labelNames: ['kind'],
      registers,
    }),
    publishFailures: new Counter({
      name: 'market_pipeline_relay_publish_failures_total',
      help: 'Republish attempts that failed (retried; the source messages stay unacked)',
      registers,
    }),
  };
}
type RelayMetrics = ReturnType<typeof createRelayMetrics>;

export async function startRelay(config: RelayConfig, log: Logger, registry: Registry): Promise<Relay> {
  const names = pipelineNamesOf(config);
  const source = pipelineNames({
    pipelineId: config.RELAY_SOURCE_PIPELINE_ID,
    tenantId: config.RELAY_SOURCE_TENANT_ID,
  });
  if (source.pipelineId === names.pipelineId) {
    throw new Error(`RELAY_SOURCE_PIPELINE_ID is this pipeline's own id (${names.pipelineId})`);
  }
  let notReady: () => string | undefined = () => 'starting';
  const metrics = createRelayMetrics(registry, { sourceReady: () => notReady() === undefined });
  const nats = await connectPipelineNats(config, names, 'market-pipeline-relay', log);
  const jsm = await jetstreamManager(nats.nc);
  const js = jetstream(nats.nc);
  await ensureStreams(
    jsm,
    {
      maxAgeMs: config.NATS_STREAM_MAX_AGE_SECONDS * 1000,
      duplicateWindowMs: config.NATS_DUPLICATE_WINDOW_SECONDS * 1000,
    },
    names,
  );
  const consumers = relayConsumers(source, names);
  const ctx: LoopContext = {
    config,
    log,
    metrics,
    js,
    jsm,
    names,
    source,
    ticksDurable: consumers.ticks,
    lost: [],
    ticksHeldFrom: () => ticks.heldFrom,
    replies: repliesFor(nats.nc),
  };
  const ticks = new RelayLoop(ctx, 'ticks', consumers.ticks, source.streams.ticks.name, {
    filters: config.SYMBOLS.map((s) => source.tickSubject(s)),
    batch: config.RELAY_BATCH_SIZE,
    translate: (msg) => translateTick(ctx, msg),
  });
  const gaps = new RelayLoop(ctx, 'gaps', consumers.gaps, source.streams.events.name, {
    filters: [source.feedGapSubject],
    batch: 50,
    translate: (msg) => translateGap(ctx, msg),
  });
  const coverage = new RelayLoop(ctx, 'coverage', consumers.coverage, source.streams.events.name, {
    filters: [source.coverageSubject],
    batch: 50,
    translate: (msg) => translateCoverage(ctx, msg),
  });
  const loops = [ticks, gaps, coverage];
  notReady = () => nats.notReady() ?? ticks.notReady() ?? gaps.notReady() ?? coverage.notReady();
  const done = Promise.all(loops.map((l) => l.run())).then(() => undefined);
  const monitor = setInterval(() => void Promise.all(loops.map((l) => l.reportLag())), 5_000);
  log.info(
    {
      pipeline: names.pipelineId,
      tenant: names.tenantId,
      source: source.pipelineId,
      sourceTenant: source.tenantId,
      symbols: config.SYMBOLS,
    },
    'relay started',
  );
  let stopping: Promise<void> | undefined;
  return {
    nats,
    done,
    notReady: () => notReady(),
    stop: () =>
      (stopping ??= (async () => {
        for (const l of loops) l.stop();
        await done.catch(() => undefined);
        clearInterval(monitor);
        await nats.nc.drain().catch(() => undefined);
        log.info('relay stopped: everything pulled was republished and acked');
      })()),
  };
}

interface LoopContext {
  config: RelayConfig;
  log: Logger;
  metrics: RelayMetrics;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: PipelineNames;
  source: PipelineNames;
  /** The relay's durable on the source's ticks: its ack floor is what was republished. */
  ticksDurable: { stream: string; durable: string };
  /** Quote time this process knows it did not republish (coverage.ts clipToRelayed). */
  lost: LostSpan[];
  /** The lowest source tick sequence the ticks loop holds unrelayed (RelayLoop.heldFrom). */
  ticksHeldFrom: () => number | undefined;
  /** Acks and progress replies of a batch, in one write each. */
  replies: Replies;
}

/** What one source message becomes: a message to republish, or a reason to refuse it (DLQ). */
type Translated =
  | { publish: Outgoing; quoteMs?: number }
  | { marker: CoverageMarker } // a source marker of the relay's symbols: sent once its ticks are relayed
  | { skip: string } // nothing of this relay's (a gap of other symbols): acked
  | { refuse: string; reason: 'schema_violation' | 'wrong_tenant' | 'invalid_json' };

/**
 * A source message's JSON checked against its schema and the source's tenant: the data, or
 * why it is refused. The first step of every translation.
 */
function parseSource<T extends { tenant_id?: string | undefined }>(
  ctx: LoopContext,
  msg: JsMsg,
  parse: (payload: unknown) => { success: true; data: T } | { success: false; error: { message: string } },
): { data: T } | Extract<Translated, { refuse: string }> {
  let payload: unknown;
  try {
    payload = JSON.parse(decoder.decode(msg.data));
  } catch (error) {
    return { reason: 'invalid_json', refuse: reasonOf(error) };
  }
  const parsed = parse(payload);
  if (!parsed.success) return { reason: 'schema_violation', refuse: parsed.error.message };
  const carried = parsed.data.tenant_id;
  // Only the source's own tenant is relayed; anything else on its stream is refused.
  if (carried !== ctx.source.tenantId) {
    return {
      reason: 'wrong_tenant',
      refuse: `the source message is for tenant ${carried ?? '(none)'}; source ${ctx.source.pipelineId} serves tenant ${ctx.source.tenantId}`,
    };
  }
  return { data: parsed.data };
}

function translateTick(ctx: LoopContext, msg: JsMsg): Translated {
  const source = parseSource(ctx, msg, parseTick);
  if (!('data' in source)) return source;
  const tick = source.data;
  const { names } = ctx;
  return {
    quoteMs: tick.timestamp_ms,
    publish: {
      subject: names.tickSubject(tick.symbol),
      // The same quote under this pipeline's scope: a redelivered source message gets the
      // same id, and never the source's own id.
      msgId: tickMessageId(tick, names.idScope),
      data: JSON.stringify({ ...tick, tenant_id: names.tenantId }),
    },
  };
}

function translateGap(ctx: LoopContext, msg: JsMsg): Translated {
  const source = parseSource(ctx, msg, (p) => feedGapSchema.safeParse(p));
  if (!('data' in source)) return source;
  const mine = new Set(ctx.config.SYMBOLS);
  const symbols = source.data.symbols.filter((s) => mine.has(s));
  if (symbols.length === 0) return { skip: 'a gap of none of this pipeline’s symbols' };
  return { publish: gapMessage(ctx.names, { ...source.data, symbols }) };
}

function translateCoverage(ctx: LoopContext, msg: JsMsg): Translated {
  const source = parseSource(ctx, msg, (p) => coverageSchema.safeParse(p));
  if (!('data' in source)) return source;
  const symbols = relayedSymbols(source.data, ctx.config.SYMBOLS);
  if (symbols.length === 0) return { skip: 'coverage of none of this pipeline’s symbols' };
  return { marker: { ...source.data, symbols } };
}

function gapMessage(names: PipelineNames, gap: Omit<FeedGap, 'tenant_id'>): Outgoing {
  const own = feedGapSchema.parse({ ...gap, tenant_id: names.tenantId });
  return {
    subject: names.feedGapSubject,
    msgId: feedGapMessageId(own, names.idScope),
    data: JSON.stringify(own),
  };
}

const METRIC_KIND = { ticks: 'tick', gaps: 'feed_gap', coverage: 'coverage' } as const;

interface LoopOptions {
  /** Filter subjects of the durable: the relay's symbols on the source's subjects. */
  filters: string[];
  batch: number;
  translate: (msg: JsMsg) => Translated;
}

/**
 * One durable consumer on the source: pull a batch, republish it confirmed, ack it; during a
 * NATS or publish failure the batch stays held (working() keeps it from redelivery) and is
 * retried. Only the ticks loop watches for what the source's stream dropped unread.
 */
class RelayLoop {
  private stopping = false;
  private consumer: Consumer | undefined;
  private lastError: string | undefined = 'starting';
  private readonly backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 0.5 });
  /** Quote time of the last tick relayed (ms), for the span of ticks lost unread. */
  private lastQuoteMs: number | undefined;
  /** Set when the source's stream dropped ticks the relay had not read (lostSpan). */
  private lostSince: number | undefined;
  /** A new durable on a stream that already dropped its first ticks: coverage before is not ours. */
  private unseenBefore = false;
  /**
   * The lowest source sequence pulled and not yet relayed. The durable's ack floor alone
   * cannot say so: a message that ages out of the source's stream while held leaves the
   * consumer's pending list, and the floor moves past it unacked.
   */
  heldFrom: number | undefined;

  constructor(
    private readonly ctx: LoopContext,
    private readonly kind: 'ticks' | 'gaps' | 'coverage',
    private readonly durable: { stream: string; durable: string },
    private readonly sourceStream: string,
    private readonly o: LoopOptions,
  ) {}

  notReady(): string | undefined {
    return this.lastError && `${this.durable.durable}: ${this.lastError}`;
  }

  stop(): void {
    this.stopping = true;
  }

  async reportLag(): Promise<void> {
    const info = await this.ctx.jsm.consumers
      .info(this.durable.stream, this.durable.durable)
      .catch(() => undefined);
    if (info) this.ctx.metrics.lag.set({ kind: this.kind }, info.num_pending + info.num_ack_pending);
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      try {
        this.consumer ??= await this.open();
        const messages = await this.consumer.fetch({ max_messages: this.o.batch, expires: 2_000 });
        const held: JsMsg[] = [];
        for await (const msg of messages) {
          this.heldFrom = Math.min(this.heldFrom ?? Infinity, msg.info.streamSequence);
          held.push(msg);
        }
        if (held.length > 0) await this.relay(held);
        // Everything held is relayed (a batch that failed stays noted until its redelivery,
        // the lowest sequence first, succeeds).
        const lowest = Math.min(...held.map((m) => m.info.streamSequence));
        if (held.length === 0 || lowest <= (this.heldFrom ?? Infinity)) {
          this.heldFrom = undefined;
        }
        this.lastError = undefined;
        this.backoff.reset();
      } catch (error) {
        this.consumer = undefined;
        this.lastError = reasonOf(error);
        const delay = this.backoff.next();
        this.ctx.log.warn(
          {
            consumer: this.durable.durable,
            stream: this.durable.stream,
            err: this.lastError,
            retryInMs: delay,
          },
          'relay pull failed (is the source pipeline running, and may this user read its stream?)',
        );
        await sleep(delay);
      }
    }
  }

  /** Creates or updates the durable on the source's stream, and notes ticks lost unread. */
  private async open(): Promise<Consumer> {
    const { jsm, config } = this.ctx;
    const { stream, durable } = this.durable;
    const wanted = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      // A new relay starts with what the source's stream still holds.
      deliver_policy: DeliverPolicy.All,
      ack_wait: config.RELAY_ACK_WAIT_MS * NS_PER_MS,
      max_ack_pending: this.o.batch * 4,
      max_deliver: -1,
      ...(this.o.filters.length === 1
        ? { filter_subject: this.o.filters[0] }
        : { filter_subjects: this.o.filters }),
    };
    await ensureDurableConsumer(jsm, stream, wanted, (existing) => {
      const have = existing.filter_subjects ?? (existing.filter_subject ? [existing.filter_subject] : []);
      const same = have.length === this.o.filters.length && this.o.filters.every((f) => have.includes(f));
      // The symbols changed: follow them (added symbols start from the durable's position).
      if (same && existing.ack_wait === wanted.ack_wait) return undefined;
      return this.o.filters.length === 1
        ? { filter_subject: this.o.filters[0], filter_subjects: [], ack_wait: wanted.ack_wait }
        : { filter_subjects: this.o.filters, filter_subject: '', ack_wait: wanted.ack_wait };
    });
    if (this.kind === 'ticks') await this.noteLostUnread();
    return this.ctx.js.consumers.get(stream, durable);
  }

  /**
   * The source's stream keeps messages for its max age; if the relay was down longer, the
   * first message still held is past the durable's ack floor: what lies between was lost to
   * the relay. The span ends with the first tick relayed after it (relay()). The stream
   * cannot tell whether the dropped messages were of this relay's symbols (the source may
   * collect more): then the gap is reported anyway, and the gap filler's repair of bars that
   * were complete is a no-op.
   */
  private async noteLostUnread(): Promise<void> {
    const { jsm } = this.ctx;
    const [info, stream] = await Promise.all([
      jsm.consumers.info(this.durable.stream, this.durable.durable),
      jsm.streams.info(this.sourceStream),
    ]);
    // A new relay starts with what the stream still holds; it reports no gap for what came
    // before it existed, but does not vouch for that time either (coverage.ts).
    if (info.ack_floor.stream_seq === 0 && stream.state.first_seq > 1) this.unseenBefore = true;
    if (info.ack_floor.stream_seq === 0 || info.ack_floor.stream_seq + 1 >= stream.state.first_seq) return;
    const floor = await jsm.streams
      .getMessage(this.sourceStream, { seq: info.ack_floor.stream_seq })
      .catch(() => null);
    const floorQuote = (() => {
      try {
        return floor ? parseTick(floor.json()).data?.timestamp_ms : undefined;
      } catch {
        return undefined;
      }
    })();
    // The last acked tick is gone too (it aged out with the rest): its ack time is the best
    // bound left, and quote times of a live feed are wall-clock times.
    const last = info.ack_floor.last_active as unknown;
    const ackedAt = typeof last === 'string' ? Date.parse(last) : typeof last === 'number' ? last : NaN;
    this.lostSince = floorQuote ?? this.lastQuoteMs ?? (Number.isNaN(ackedAt) ? Date.now() : ackedAt);
    this.ctx.log.error(
      { ackFloor: info.ack_floor.stream_seq, firstHeld: stream.state.first_seq, since: this.lostSince },
      "the source's stream dropped ticks the relay had not read (down longer than its max age): reporting a feed gap",
    );
  }

  private async relay(held: JsMsg[]): Promise<void> {
    const { ctx } = this;
    const outgoing: Outgoing[] = [];
    const refused: { msg: JsMsg; reason: string; detail: string }[] = [];
    const markers: CoverageMarker[] = [];
    let skipped = 0;
    let firstQuote: number | undefined;
    let lastQuote: number | undefined;
    for (const msg of held) {
      const t = this.o.translate(msg);
      if ('publish' in t) {
        outgoing.push(t.publish);
        if (t.quoteMs !== undefined) {
          firstQuote ??= t.quoteMs;
          lastQuote = t.quoteMs;
        }
      } else if ('marker' in t) markers.push(t.marker);
      else if ('refuse' in t) refused.push({ msg, reason: t.reason, detail: t.refuse });
      else skipped++;
    }
    const lost: LostSpan[] = [];
    if (this.lostSince !== undefined && firstQuote !== undefined) {
      const gap = {
        kind: 'disconnect' as const,
        symbols: [...ctx.config.SYMBOLS],
        start_ms: Math.min(this.lostSince, firstQuote),
        end_ms: Math.max(this.lostSince, firstQuote),
        detected_at: new Date().toISOString(),
      };
      outgoing.push(gapMessage(ctx.names, gap));
      lost.push({ fromMs: gap.start_ms, toMs: gap.end_ms });
    }
    // Ticks of the same millisecond as the first one held may be gone: that ms is not vouched for.
    if (this.unseenBefore && firstQuote !== undefined) lost.push({ fromMs: 0, toMs: firstQuote });
    const keepAlive = setInterval(() => ctx.replies.working(held), ctx.config.RELAY_ACK_WAIT_MS / 3);
    let notRelayed = 0;
    try {
      if (markers.length > 0) {
        const own = await this.ownMarkers(markers);
        outgoing.push(...own);
        notRelayed = markers.length - own.length;
      }
      const result = await this.untilPublished(outgoing);
      for (const r of refused) await this.deadLetter(r.msg, r.reason, r.detail);
      // Known before the acks move the durable's ack floor past the lost ticks, so no marker
      // waiting on that floor can miss it.
      ctx.lost.push(...lost);
      // Acked only now: every republished copy is stored (or was already, same id).
      const refusedSet = new Set(refused.map((r) => r.msg));
      ctx.replies.ack(refused.length === 0 ? held : held.filter((m) => !refusedSet.has(m)));
      const kind = METRIC_KIND[this.kind];
      ctx.metrics.relayed.inc({ kind, outcome: 'published' }, result.published - result.duplicates);
      ctx.metrics.relayed.inc({ kind, outcome: 'duplicate' }, result.duplicates);
      if (skipped) ctx.metrics.relayed.inc({ kind, outcome: 'not_mine' }, skipped);
      if (notRelayed) ctx.metrics.relayed.inc({ kind, outcome: 'not_relayed' }, notRelayed);
      if (lastQuote !== undefined) this.lastQuoteMs = lastQuote;
      if (firstQuote !== undefined) {
        this.lostSince = undefined;
        this.unseenBefore = false;
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * The relay's own markers for the source's: waits until its tick durable's ack floor says
   * every source tick of its symbols up to the highest tick_seq held was republished and
   * confirmed, then stamps them with its own tick stream's last sequence (every copy is at or
   * below it). On stop it gives up: the markers stay unacked, redelivered next start.
   */
  private async ownMarkers(markers: CoverageMarker[]): Promise<Outgoing[]> {
    const { ctx } = this;
    const need = Math.max(...markers.map((m) => m.tick_seq));
    for (;;) {
      if (this.stopping) throw new Error('stopping before the ticks under the coverage markers were relayed');
      const [state, stream] = await Promise.all([
        ctx.jsm.consumers.info(ctx.ticksDurable.stream, ctx.ticksDurable.durable),
        ctx.jsm.streams.info(ctx.ticksDurable.stream),
      ]);
      const held = ctx.ticksHeldFrom();
      if ((held === undefined || held > need) && ticksRelayedThrough(state, need, stream.state.first_seq))
        break;
      await sleep(250);
    }
    const tickSeq = (await ctx.jsm.streams.info(ctx.names.streams.ticks.name)).state.last_seq;
    const emittedAt = new Date().toISOString();
    return markers.flatMap((m) => {
      const span = clipToRelayed(m, ctx.lost);
      if (!span) return [];
      const own = coverageSchema.parse({
        ...span,
        tenant_id: ctx.names.tenantId,
        tick_seq: tickSeq,
        emitted_at: emittedAt,
      });
      return [
        {
          subject: ctx.names.coverageSubject,
          msgId: coverageMessageId(own, ctx.names.idScope),
          data: JSON.stringify(own),
        },
      ];
    });
  }

  /** Publishes until confirmed; on stop gives up (the batch stays unacked: redelivered next start). */
  private async untilPublished(outgoing: Outgoing[]) {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 0.5 });
    for (;;) {
      try {
        return await publishConfirmed(this.ctx.js, outgoing);
      } catch (error) {
        this.ctx.metrics.publishFailures.inc();
        this.lastError = `republish failed: ${reasonOf(error)}`;
        if (this.stopping) throw error;
        const delay = backoff.next();
        this.ctx.log.warn({ err: reasonOf(error), retryInMs: delay }, 'republish failed; holding the batch');
        await sleep(delay);
      }
    }
  }

  private async deadLetter(msg: JsMsg, reason: string, detail: string): Promise<void> {
    await publishDeadLetter(
      this.ctx.js,
      {
        subject: msg.subject,
        data: msg.data,
        reason: `${reason}: ${detail}`,
        messageId: msg.headers?.get('Nats-Msg-Id') || `${msg.info.stream}:${msg.seq}`,
        service: SERVICE,
      },
      this.ctx.names,
    );
    msg.term();
    this.ctx.metrics.deadLetters.inc({ reason });
    this.ctx.log.warn({ subject: msg.subject, reason, detail }, 'source message refused to the DLQ');
  }
}
