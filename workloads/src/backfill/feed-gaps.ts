// The collector's recorded feed gaps (events.feed_gap on MARKET_EVENTS), read through a
// durable pull consumer of the backfill. A message is acknowledged only at the end of the
// run that read it, after its repair tasks are in the ledger and every task that could be
// repaired already (its bars have settled) was published; a run that fails acks nothing, so
// the event comes back. A malformed event goes to dlq.events.feed_gap and is acked.
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { feedGapMessageId, feedGapSchema, type FeedGap } from '../contracts/messages.js';
import type { PipelineNames } from '../contracts/subjects.js';
import { foreignTenant } from '../contracts/tenancy.js';
import { barEnd, barStart, type Timeframe } from '../contracts/timeframes.js';
import { describeIssues } from '../contracts/zod-issues.js';
import { publishDeadLetter } from '../nats/dead-letter.js';
import { ensureDurableConsumer, NS_PER_MS } from '../nats/durable-consumer.js';
import type { Logger } from '../runtime/logger.js';
import type { RepairTask } from './ledger.js';

export const FEED_GAP_CONSUMER = 'backfill-feed-gaps';
/** Unacked events come back after this; held ones get working() every third of it. */
const ACK_WAIT_MS = 10 * 60_000;
/** Events read per run at most (the rest wait for the next run). */
const MAX_EVENTS_PER_RUN = 10_000;

/**
 * The repair of one gap: per configured symbol it names and per timeframe, every bar that
 * overlaps [start_ms, end_ms] (both quote times, inclusive). Symbols the pipeline does not
 * carry are left out.
 */
export function repairTasksOf(
  gap: FeedGap,
  tenantId: string,
  symbols: readonly string[],
  timeframes: readonly Timeframe[],
): RepairTask[] {
  // Unique within the tenant, whose ledger rows these are.
  const gapId = feedGapMessageId(gap, tenantId);
  return gap.symbols
    .filter((s) => symbols.includes(s))
    .flatMap((symbol) =>
      timeframes.map((timeframe) => ({
        tenantId,
        symbol,
        timeframe,
        gapId,
        kind: gap.kind,
        startMs: barStart(timeframe, gap.start_ms),
        endMs: barEnd(timeframe, barStart(timeframe, gap.end_ms)),
        detectedAt: gap.detected_at,
      })),
    );
}

export interface ReceivedGap {
  gap: FeedGap;
  msg: JsMsg;
}

export class FeedGapInbox {
  private held: JsMsg[] = [];
  private keepAlive: NodeJS.Timeout | undefined;
  deadLettered = 0;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly names: PipelineNames,
    private readonly log: Logger,
  ) {}

  /** Creates (or updates) the durable consumer on the pipeline's own events stream. */
  static async open(
    js: JetStreamClient,
    jsm: JetStreamManager,
    names: PipelineNames,
    log: Logger,
  ): Promise<FeedGapInbox> {
    const config = {
      durable_name: FEED_GAP_CONSUMER,
      filter_subject: names.feedGapSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ACK_WAIT_MS * NS_PER_MS,
      max_deliver: -1,
    };
    await ensureDurableConsumer(jsm, names.streams.events.name, config, (existing) =>
      existing.ack_wait === config.ack_wait ? undefined : { ack_wait: config.ack_wait },
    );
    return new FeedGapInbox(js, names, log);
  }

  /** Reads every waiting event (up to a bound); they stay unacked until ackAll(). */
  async receive(): Promise<ReceivedGap[]> {
    const consumer = await this.js.consumers.get(this.names.streams.events.name, FEED_GAP_CONSUMER);
    const info = await consumer.info();
    const received: ReceivedGap[] = [];
    if (info.num_pending === 0) return received;
    this.keepAlive ??= setInterval(() => {
      for (const m of this.held) m.working();
    }, ACK_WAIT_MS / 3);
    this.keepAlive.unref();
    while (this.held.length < MAX_EVENTS_PER_RUN) {
      const wanted = Math.min(256, MAX_EVENTS_PER_RUN - this.held.length);
      const batch = await consumer.fetch({ max_messages: wanted, expires: 1000 });
      let count = 0;
      for await (const msg of batch) {
        count++;
        const gap = await this.accept(msg);
        if (gap) {
          this.held.push(msg);
          received.push({ gap, msg });
        }
      }
      if (count < wanted) break;
    }
    return received;
  }

  /** Acks every held event (the server confirms each). */
  async ackAll(): Promise<void> {
    this.stopKeepAlive();
    const held = this.held;
    this.held = [];
    await Promise.all(held.map((m) => m.ackAck()));
  }

  /** After a failure: hand the held events back at once, for the next run. */
  release(): void {
    this.stopKeepAlive();
    for (const m of this.held) m.nak();
    this.held = [];
  }

  private async accept(msg: JsMsg): Promise<FeedGap | undefined> {
    let reason: string;
    try {
      const parsed = feedGapSchema.safeParse(JSON.parse(new TextDecoder().decode(msg.data)));
      // Another tenant's gap is never repaired here (nor acked away silently): dead letter.
      const foreign = parsed.success ? foreignTenant(this.names, parsed.data.tenant_id) : undefined;
      if (parsed.success && !foreign) return parsed.data;
      reason = parsed.success ? `wrong_tenant: ${foreign}` : describeIssues(parsed.error);
    } catch (error) {
      reason = `invalid JSON: ${(error as Error).message}`;
    }
    await publishDeadLetter(
      this.js,
      {
        subject: msg.subject,
        data: msg.data,
        reason,
        messageId: msg.headers?.get('Nats-Msg-Id') || undefined,
        service: 'market-pipeline-backfill',
      },
      this.names,
    );
    msg.ack();
    this.deadLettered++;
    this.log.warn({ subject: msg.subject, reason }, 'malformed or foreign feed_gap event sent to the DLQ');
    return undefined;
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
