// The Kafka tick archive, fed from JetStream rather than from the WebSocket. The original
// sent every quote to NATS and Kafka side by side and lost and doubled data between the
// two paths (seed lesson 4). Here the archive is a durable JetStream consumer
// (`collector-tick-archive` on MARKET_TICKS) running in the collector process: it reads
// batches of ticks, sends them to Kafka with the idempotent acks=all producer, and acks
// the NATS messages only after Kafka confirmed them. A Kafka outage therefore never slows
// the live path and loses nothing: the backlog waits in JetStream.
//
// Upgrade: a pipeline that ran under the seed's names before it got a PIPELINE_ID left its
// archive consumer `collector-tick-archive` on MARKET_TICKS with ticks not yet sent. While it
// exists, the archiver drains it beside its own (drainSeed): only what the upgrade left, the
// ticks without a tenant_id, with the message ids the previous version gave them; at the
// first tick that carries a tenant (a pipeline run by hand under the seed's names, whose
// consumer it is) it hands the rest of that batch back and stops. README, upgrade.
//
// Repeats: within one process a redelivered message that was already sent is recognised
// by its stream sequence and only acked. A crash between Kafka's confirmation and the
// NATS ack re-sends that batch after the restart; each record carries the tick's id in the
// `message-id` header, so archive readers can drop the repeat.
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JsMsg,
} from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import { parseTick, tickMessageId } from '../contracts/messages.js';
import {
  kafkaHeaders,
  pipelineNames,
  pipelineNamesOf,
  SEED_NAMES,
  tickKafkaKey,
  type PipelineNames,
} from '../contracts/subjects.js';
import { ArchiveProducer, type ArchiveRecord } from '../kafka/archive-producer.js';
import { ensureDurableConsumer, NS_PER_MS } from '../nats/durable-consumer.js';
import { carriedTenant, newestCarriesTenant } from '../nats/seed-leftovers.js';
import { Backoff, sleep } from '../runtime/backoff.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import type { Companion, CompanionContext } from './collector.js';

export const ARCHIVE_CONSUMER = 'collector-tick-archive';

/** Time JetStream waits for an ack before redelivering; kept alive while Kafka retries. */
const ACK_WAIT_MS = 30_000;

export async function startTickArchiver(options: CompanionContext): Promise<Companion> {
  const archiver = new TickArchiver(options);
  archiver.start();
  return archiver;
}

class TickArchiver implements Companion {
  private readonly producer: ArchiveProducer;
  private readonly topic: string;
  private readonly batchSize: number;
  private readonly stopSignal = new AbortController();
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  private readonly throttle: LogThrottle;
  private readonly metrics;
  private readonly names: PipelineNames;
  /** Tenant and pipeline of every record (topics may be shared by several pipelines). */
  private readonly headers: Record<string, string>;
  private consumer: Consumer | undefined;
  private topicReady = false;
  private lastArchivedSeq = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: CompanionContext) {
    const { config, registry } = options;
    this.topic = config.KAFKA_TICK_TOPIC;
    this.names = pipelineNamesOf(config);
    this.headers = kafkaHeaders(this.names);
    this.batchSize = config.COLLECTOR_ARCHIVE_BATCH_SIZE;
    this.throttle = new LogThrottle(options.log);
    this.producer = new ArchiveProducer({
      brokers: config.KAFKA_BROKERS ?? [],
      clientId: `${config.KAFKA_CLIENT_ID}-tick-archive`,
      batchSize: this.batchSize,
    });
    const registers = [registry];
    this.metrics = {
      archived: new Counter({
        name: 'market_pipeline_collector_archived_ticks_total',
        help: 'Ticks confirmed by Kafka in the tick archive topic',
        registers,
      }),
      lag: new Gauge({
        name: 'market_pipeline_collector_archive_lag_messages',
        help: 'Ticks in JetStream not yet archived to Kafka (consumer collector-tick-archive)',
        registers,
      }),
      failures: new Counter({
        name: 'market_pipeline_collector_archive_failures_total',
        help: 'Failed archive attempts (Kafka or NATS unavailable), retried',
        registers,
      }),
      skipped: new Counter({
        name: 'market_pipeline_collector_archive_skipped_total',
        help: 'Messages on ticks.> not archived because they are not valid ticks (the bridge dead-letters them)',
        registers,
      }),
    };
  }

  start(): void {
    this.running = Promise.all([this.loop(), this.drainSeed()]).then(() => undefined);
  }

  /** Lets the batch in flight finish (or give up if Kafka is down), then closes the producer. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.running;
    await this.producer.close().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const { log } = this.options;
    log.info({ topic: this.topic, consumer: ARCHIVE_CONSUMER }, 'tick archive to Kafka started');
    while (!this.stopSignal.signal.aborted) {
      try {
        const consumer = await this.ready();
        const batch = await this.fetch(consumer);
        if (batch.length > 0) await this.archive(batch);
        this.backoff.reset();
      } catch (error) {
        if (this.stopSignal.signal.aborted) break;
        this.metrics.failures.inc();
        this.throttle.write(
          'warn',
          'archive_failed',
          { err: (error as Error).message, topic: this.topic },
          'tick archive: attempt failed; retrying (ticks wait in JetStream)',
        );
        // A consumer lost with the NATS store is created again on the next attempt.
        if (/consumer not found|stream not found/i.test((error as Error).message)) this.consumer = undefined;
        await sleep(this.backoff.next(), this.stopSignal.signal);
      }
    }
    log.info({ lastArchivedSeq: this.lastArchivedSeq }, 'tick archive stopped');
  }

  private async ready(): Promise<Consumer> {
    if (!this.topicReady) {
      await this.producer.ensureTopics([this.topic]);
      this.topicReady = true;
    }
    if (!this.consumer) {
      const nc = this.options.nats.nc;
      const jsm = await jetstreamManager(nc);
      const stream = this.names.streams.ticks.name;
      await ensureDurableConsumer(jsm, stream, {
        durable_name: ARCHIVE_CONSUMER,
        // Explicit acks (not AckAll): a second process on the same consumer could
        // otherwise ack messages the first has not archived yet.
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        // No filter: the whole stream is ticks, and a filter costs the server more per
        // delivery (see bridge/consumers.ts).
        ack_wait: ACK_WAIT_MS * NS_PER_MS,
        max_ack_pending: this.batchSize * 4,
      });
      this.consumer = await jetstream(nc).consumers.get(stream, ARCHIVE_CONSUMER);
    }
    return this.consumer;
  }

  private async fetch(consumer: Consumer): Promise<JsMsg[]> {
    const batch: JsMsg[] = [];
    const messages = await consumer.fetch({ max_messages: this.batchSize, expires: 1000 });
    for await (const m of messages) batch.push(m);
    return batch;
  }

  private async archive(batch: JsMsg[]): Promise<void> {
    const records: ArchiveRecord[] = [];
    for (const m of batch) {
      if (m.seq <= this.lastArchivedSeq) continue; // redelivered after we sent it: ack only
      const record = this.toRecord(m);
      if (record) records.push(record);
    }
    if (records.length > 0) await this.sendKeepingBatchAlive(records, batch);
    this.lastArchivedSeq = Math.max(this.lastArchivedSeq, ...batch.map((m) => m.seq));
    for (const m of batch.slice(0, -1)) m.ack();
    // Acks are processed in order on one connection: confirming the last confirms them all.
    await batch.at(-1)!.ackAck();
    this.metrics.archived.inc(records.length);
    this.metrics.lag.set(batch.at(-1)!.info.pending);
  }

  /**
   * The seed-named archive consumer left by the upgrade (see the top of this file). Ends when
   * it is drained and deleted, at the first tick that carries a tenant, or at stop.
   */
  private async drainSeed(): Promise<void> {
    if (!this.names.pipelineId) return; // under the seed's names that consumer is loop()'s own
    const { log } = this.options;
    const stream = SEED_NAMES.streams.ticks.name;
    const nc = this.options.nats.nc;
    const jsm = await jetstreamManager(nc);
    if (!(await jsm.consumers.info(stream, ARCHIVE_CONSUMER).catch(() => undefined))) return;
    const tenant = await newestCarriesTenant(jsm, stream);
    if (tenant !== undefined) {
      log.info(
        { stream, consumer: ARCHIVE_CONSUMER, tenant },
        'a pipeline under the seed names publishes with tenants: its archive consumer is not drained',
      );
      return;
    }
    // The ids the previous version (no PIPELINE_ID) gave these ticks: a repeat across the
    // upgrade carries the same message-id header.
    const previous = pipelineNames({ tenantId: this.names.tenantId }).idScope;
    log.warn(
      { stream, consumer: ARCHIVE_CONSUMER },
      'archiving what the previous version left under the seed names',
    );
    let consumer: Consumer | undefined;
    while (!this.stopSignal.signal.aborted) {
      try {
        consumer ??= await jetstream(nc).consumers.get(stream, ARCHIVE_CONSUMER);
        // The whole pull is in hand before anything is handed back: a nak while the pull is
        // open would bring the message straight back to it.
        const batch = await this.fetch(consumer);
        const cut = batch.findIndex((m) => carriedTenant(m.data) !== undefined);
        const leftovers = cut < 0 ? batch : batch.slice(0, cut);
        const notOurs = cut < 0 ? [] : batch.slice(cut);
        const records = leftovers.flatMap((m) => this.toRecord(m, previous) ?? []);
        if (records.length > 0) await this.sendKeepingBatchAlive(records, leftovers);
        for (const m of leftovers) m.ack();
        this.metrics.archived.inc(records.length);
        for (const m of notOurs) m.nak();
        if (notOurs.length > 0) {
          log.warn(
            {
              stream,
              consumer: ARCHIVE_CONSUMER,
              seq: notOurs[0]!.seq,
              tenant: carriedTenant(notOurs[0]!.data),
            },
            'a live pipeline under the seed names uses this archive consumer: drain stopped, its ticks left to it',
          );
          return;
        }
      } catch (error) {
        if (this.stopSignal.signal.aborted) return;
        if (/not found/i.test((error as Error).message)) {
          log.info(
            { stream, consumer: ARCHIVE_CONSUMER },
            'seed-named archive consumer gone: drain finished',
          );
          return;
        }
        consumer = undefined;
        this.metrics.failures.inc();
        await sleep(this.backoff.next(), this.stopSignal.signal).catch(() => undefined);
      }
    }
  }

  private toRecord(m: JsMsg, idScope = this.names.idScope): ArchiveRecord | undefined {
    const value = m.string();
    let decoded: unknown;
    try {
      decoded = JSON.parse(value);
    } catch {
      decoded = undefined;
    }
    const tick = parseTick(decoded);
    // Another tenant's tick in this pipeline's stream is not this pipeline's to archive (the
    // bridge dead-letters it); a tick without a tenant predates tenants and is this stream's.
    const foreign = tick.success && (tick.data.tenant_id ?? this.names.tenantId) !== this.names.tenantId;
    if (!tick.success || foreign) {
      this.metrics.skipped.inc();
      this.throttle.write(
        'warn',
        'archive_invalid',
        {
          subject: m.subject,
          seq: m.seq,
          reason: tick.success ? `tenant ${tick.data.tenant_id}` : tick.error.issues[0]?.message,
        },
        'tick archive: skipping a message that is not a valid tick of this tenant',
      );
      return undefined;
    }
    return {
      key: tickKafkaKey(tick.data.symbol),
      value,
      messageId: tickMessageId(tick.data, idScope),
      headers: this.headers,
    };
  }

  /** Sends until Kafka confirms, telling JetStream the batch is still being worked on. */
  private async sendKeepingBatchAlive(records: ArchiveRecord[], batch: JsMsg[]): Promise<void> {
    const keepAlive = setInterval(() => batch.forEach((m) => m.working()), ACK_WAIT_MS / 3);
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
    try {
      for (;;) {
        try {
          await this.producer.sendConfirmed(this.topic, records);
          return;
        } catch (error) {
          // Stopping during an outage: the batch stays unacked and is redelivered next start.
          if (this.stopSignal.signal.aborted) throw error;
          this.metrics.failures.inc();
          this.throttle.write(
            'warn',
            'archive_kafka',
            { err: (error as Error).message, topic: this.topic, records: records.length },
            'tick archive: Kafka send failed; retrying',
          );
          await sleep(backoff.next(), this.stopSignal.signal);
        }
      }
    } finally {
      clearInterval(keepAlive);
    }
  }
}
