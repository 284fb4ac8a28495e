// One consumer's loop: pull messages, route each (bad ones to the DLQ at once), collect
// the good ones in batches by lane, and write a batch when it is full, old enough, or the
// stream has nothing more for now. A batch's messages are acked only after its write
// committed, all its acks in one write to the connection (nats/wire-acks.ts, which also
// says why the acks are not cumulative).
//
// Latency at light load: every delivered message carries the consumer's pending count;
// when it is 0 the stream has nothing more to give, and the lane is written once its oldest
// message is DRAINED_LINGER_MS (50 ms) old instead of after LIVE_BATCH_TIMEOUT (1 s); at
// most 20 writes a second, each tick in PostgreSQL within ~50 ms plus the write. Under load
// (messages arrive with more pending) and while the write slots are busy, the lane keeps
// filling, so batches grow with the load (bench/e2e-latency.ts).
//
// Failover: the consumer's ack wait is short (BRIDGE_ACK_WAIT, 5 s by default) so that a
// killed replica's unacked messages come back within seconds. A live replica keeps its own
// from being redelivered with progress replies (+WPI, working()) to every message it has
// held for a while, in lanes or being written, every third of the ack wait, for as long as
// it holds them (a slow write, a database outage). What it holds only briefly gets none:
// at idle and at light load that costs nothing (bench/bridge-failover.ts).
//
// Pipelining and backpressure: while batches are being written the loop keeps pulling
// into the lanes, so the next batch is ready when a write commits (pulling and writing
// one after the other left the bridge idle most of the time: ~20k ticks/s instead of
// ~70k, bench/bridge-ingest.ts). Up to `maxConcurrentWrites` batches are written at once,
// each on its own connection: with one, the pull loop sat idle while PostgreSQL worked on
// the single write (a 1000-row COPY took ~18 ms of wall time, of which the database needs
// ~6), and the writes, one after the other, set the pace. Ticks and bars need no order
// between batches (unique key, version). It stops pulling when the lanes are full, so it
// holds at most the batches being written plus one set of lanes (bounded memory). During a database
// outage it retries the write with capped backoff, calling working() on every held
// message so the server does not redeliver them to another replica meanwhile. When the
// database returns, the held batches commit and pulling resumes: nothing is
// dropped, and the unique key (ticks) or the version (bars) makes any redelivery that does
// happen harmless.
import type { Consumer, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Backoff, sleep } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import { reasonOf } from '../runtime/failure.js';
import { publishDeadLetter } from '../nats/dead-letter.js';
import { replyCounts } from '../nats/js-reply.js';
import { repliesFor, type Replies } from '../nats/wire-acks.js';
import type { PipelineNames } from '../contracts/subjects.js';
import type { Batch } from './batch.js';
import type { DatabaseHealth } from './health.js';
import type { BridgeMetrics } from './metrics.js';
import { routeMessage, type DeadLetterReason, type Lane, type Routed, type StreamKind } from './route.js';
import type { BatchWriter } from './writers.js';

export interface Held<R> {
  msg: JsMsg;
  row: R;
}

type RoutedOk = Extract<Routed, { ok: true }>;

export interface StreamWorkerOptions<R> {
  kind: StreamKind;
  /** The pipeline's subjects and tenant (route.ts); the seed's names and tenant when unset. */
  names?: PipelineNames;
  consumerName: string;
  /** Re-fetches the consumer handle (after an error it may have been recreated). */
  getConsumer: () => Promise<Consumer>;
  js: JetStreamClient;
  lanes: Partial<Record<Lane, Batch<Held<R>>>>;
  toRow: (routed: RoutedOk) => R;
  writer: BatchWriter<R>;
  health: DatabaseHealth;
  metrics: BridgeMetrics;
  log: Logger;
  /** How often messages held for a while get working() (a third of ack_wait). */
  keepAliveMs: number;
  /** The connection the acks are written to; the JetStream client's own when unset. */
  nc?: NatsConnection;
  /** Batches written at the same time (each acked when its own write commits); default 1. */
  maxConcurrentWrites?: number;
  /** Longest a pull waits for messages (a stop waits for it), default 2 s. */
  maxPullWaitMs?: number;
  /** After stop(), how long a write to an unavailable database is still retried before giving up. */
  stopGraceMs?: number;
  /**
   * Whether a pulled message is this worker's to take (default: every one). At the first that
   * is not, the worker stops; that message and every later one of the pull are handed back
   * when the pull ends (nak without delay, nothing acked or dead-lettered). Not at once: the
   * pull is still open, and the server would hand a nak-ed message straight back to it (one
   * message redelivered dozens of times within one pull). For the upgrade drain of the
   * seed-named consumers (bridge.ts), which must leave a live seed-named pipeline's messages alone.
   */
  claims?: (msg: JsMsg) => boolean;
  /** Called once when `claims` refused a message and the worker stopped. */
  onLeave?: (msg: JsMsg) => void;
  /**
   * The `kind` label of its message counters (default "tick" or "bar", from `kind`): a second
   * worker on the same stream (the ClickHouse tick store) counts apart from the first.
   */
  metricKind?: string;
}

/**
 * Messages a worker can hold at once, unacked: every lane full while `maxConcurrentWrites`
 * batches, each at most a full lane, are being written. The consumer's max_ack_pending is
 * sized from it.
 */
export function mostHeld(lanes: Partial<Record<Lane, Batch<unknown>>>, maxConcurrentWrites: number): number {
  const sizes = Object.values(lanes).map((b) => b.maxSize);
  return sizes.reduce((a, b) => a + b, 0) + maxConcurrentWrites * Math.max(...sizes);
}

export class StreamWorker<R> {
  private stopping = false;
  private readonly giveUp = new AbortController();
  /** The batches being written right now (taken out of their lanes, not yet acked), with when their oldest arrived. */
  private readonly writing = new Map<Held<R>[], number>();
  private readonly replies: Replies;
  private readonly writeBackoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 0.5 });
  private readonly pullBackoff = new Backoff({ initialMs: 250, maxMs: 5_000, jitter: 0.5 });
  private consumer: Consumer | undefined;
  /** The `kind` label of the message counters. */
  private readonly messageKind: string;
  /** The received counter bound to this kind once: resolving labels per message is not free. */
  private readonly receivedCount: { inc(): void };
  private readonly redeliveredCount: { inc(): void };
  /** The writes in progress; each settles when its batch is acked (or the write failed). */
  private readonly writes = new Set<Promise<void>>();
  private readonly maxConcurrentWrites: number;
  private writeFailure: unknown;
  /** `claims` refused a message: everything pulled from now on is handed back. */
  private leaving = false;
  /** Refused messages of the pull in progress, nak-ed when it ends. */
  private readonly handedBack: JsMsg[] = [];
  private dueTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: StreamWorkerOptions<R>) {
    this.messageKind = o.metricKind ?? (o.kind === 'ticks' ? 'tick' : 'bar');
    this.receivedCount = o.metrics.received.labels({ kind: this.messageKind });
    this.redeliveredCount = o.metrics.redelivered.labels({ kind: this.messageKind });
    this.maxConcurrentWrites = o.maxConcurrentWrites ?? 1;
    this.replies = repliesFor(o.nc ?? (o.js as unknown as { nc?: NatsConnection }).nc);
  }

  /** Runs until stop(); then writes and acks whatever it holds, and resolves. */
  async run(): Promise<void> {
    const keepAlive = setInterval(() => this.keepAlive(), this.o.keepAliveMs);
    try {
      while (!this.stopping) {
        // Pulls go on during a write; pullOnce waits for the write when the lanes are full.
        this.throwIfWriteFailed();
        await this.pullOnce();
      }
      await this.allWritesSettled();
      this.throwIfWriteFailed();
      clearTimeout(this.dueTimer);
      await this.writeAllLanes();
    } catch (error) {
      if (!(error instanceof GaveUp)) throw error;
      // Stopped while the database was down: hand everything back for prompt redelivery
      // (once every write has given up too, so nothing is acked after its nak).
      await this.allWritesSettled();
      const held = this.held();
      for (const h of held) h.msg.nak();
      this.o.log.warn(
        { consumer: this.o.consumerName, messages: held.length },
        'stopped with unwritten batches; nak-ed them',
      );
    } finally {
      clearInterval(keepAlive);
      clearTimeout(this.dueTimer);
    }
  }

  /** Stops pulling; run() then flushes what it holds and returns. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    setTimeout(() => this.giveUp.abort(), this.o.stopGraceMs ?? 10_000).unref();
  }

  private lanes(): [Lane, Batch<Held<R>>][] {
    return Object.entries(this.o.lanes) as [Lane, Batch<Held<R>>][];
  }

  private held(): Held<R>[] {
    return [...[...this.writing.keys()].flat(), ...this.lanes().flatMap(([, b]) => b.peek())];
  }

  private async allWritesSettled(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /**
   * One pull of up to the room left in the batches. Writing is not tied to the pull: a
   * batch is written as soon as it is full or due (writeDueSoon), while the pull goes on
   * (the server ends a pull only when it is full or expires, at least 1 s later).
   */
  private async pullOnce(): Promise<void> {
    const room = Math.min(...this.lanes().map(([, b]) => b.room));
    // A full batch is always being written (or waiting for a write to end); never ask for
    // 0 messages, which the client would read as "its default".
    if (room === 0) return void (await (this.writes.size > 0 ? Promise.race(this.writes) : sleep(10)));
    try {
      this.consumer ??= await this.o.getConsumer();
      const messages = await this.consumer.fetch({
        max_messages: room,
        expires: this.o.maxPullWaitMs ?? 2_000,
      });
      for await (const msg of messages) {
        // Only a dead letter is awaited: a promise per good message costs more than routing it.
        const deadLetter = this.receive(msg);
        if (deadLetter) await deadLetter;
      }
      this.handBack();
      this.pullBackoff.reset();
    } catch (error) {
      this.handBack();
      this.o.metrics.pullErrors.inc({ consumer: this.o.consumerName });
      this.consumer = undefined;
      const delay = this.pullBackoff.next();
      this.o.log.warn(
        { consumer: this.o.consumerName, err: reasonOf(error), retryInMs: delay },
        'pull failed',
      );
      await sleep(delay);
    }
  }

  /** Starts writing a due batch while fewer than maxConcurrentWrites are in progress; else arms the timer for the next due one. */
  private writeDueSoon(): void {
    if (this.writes.size >= this.maxConcurrentWrites) return; // re-checked when a write ends
    clearTimeout(this.dueTimer);
    const due = this.lanes().find(([, b]) => b.isDue());
    if (due) {
      const write: Promise<void> = this.writeBatch(due[0], due[1])
        .catch((error: unknown) => void (this.writeFailure ??= error))
        .finally(() => {
          this.writes.delete(write);
          if (!this.writeFailure) this.writeDueSoon();
        });
      this.writes.add(write);
      this.writeDueSoon(); // another lane may be due, or have a timer to arm
      return;
    }
    const dues = this.lanes().flatMap(([, b]) => b.dueAt() ?? []);
    if (dues.length > 0)
      this.dueTimer = setTimeout(() => this.writeDueSoon(), Math.max(0, Math.min(...dues) - Date.now()));
  }

  private throwIfWriteFailed(): void {
    if (this.writeFailure) throw this.writeFailure;
  }

  /** Routes one message into its lane; returns the dead-letter publish if it is a bad one. */
  private receive(msg: JsMsg): Promise<void> | undefined {
    if (this.o.claims && (this.leaving || !this.o.claims(msg))) return this.leave(msg);
    this.receivedCount.inc();
    // Unknown counts (not a $JS.ACK reply): neither redelivered nor "nothing pending".
    const counts = replyCounts((msg as unknown as { reply?: string }).reply ?? '');
    if (counts && counts.delivered > 1) this.redeliveredCount.inc();
    const routed = routeMessage(this.o.kind, msg.subject, msg.data, this.o.names);
    if (!routed.ok) return this.deadLetter(msg, routed.reason, routed.detail);
    const lane = this.o.lanes[routed.lane];
    if (!lane) return this.deadLetter(msg, 'wrong_source', `no ${routed.lane} lane on ${this.o.kind}`);
    let row: R;
    try {
      row = this.o.toRow(routed);
    } catch (error) {
      // Whatever makes a valid message unmappable must not stall the pull: dead-letter it.
      return this.deadLetter(msg, 'schema_violation', reasonOf(error));
    }
    const wasEmpty = lane.size === 0;
    lane.add({ msg, row });
    // Nothing more in the stream: the lane is due shortly (Batch.markDrained).
    const drainedNow = counts?.pending === 0 && lane.markDrained();
    // A full lane is written at once; one that waits long enough, or a drained one, is due
    // by the timer armed here (no clock read per message).
    if (wasEmpty || drainedNow || lane.room === 0) this.writeDueSoon();
  }

  /** Keeps a message it does not claim for handBack, and stops (see `claims`). */
  private leave(msg: JsMsg): undefined {
    this.handedBack.push(msg);
    if (this.leaving) return;
    this.leaving = true;
    this.stop();
    this.o.onLeave?.(msg);
  }

  private handBack(): void {
    for (const msg of this.handedBack.splice(0)) msg.nak();
  }

  private async deadLetter(msg: JsMsg, reason: DeadLetterReason, detail: string): Promise<void> {
    try {
      await publishDeadLetter(
        this.o.js,
        {
          subject: msg.subject,
          data: msg.data,
          reason: `${reason}: ${detail}`,
          // The stream sequence identifies a message without an id across redeliveries.
          messageId: msg.headers?.get('Nats-Msg-Id') || `${msg.info.stream}:${msg.seq}`,
          service: 'bridge',
        },
        this.o.names,
      );
    } catch (error) {
      // Not acked: the server redelivers it after ack_wait and it is routed again.
      this.o.metrics.deadLetterFailures.inc();
      this.o.log.error({ subject: msg.subject, reason, err: reasonOf(error) }, 'dead letter not published');
      return;
    }
    // No reason text: "+TERM <reason>" is not understood before nats-server 2.10.4 (the
    // message would stay pending); the reason travels with the dead letter instead.
    msg.term();
    this.o.metrics.deadLetters.inc({ kind: this.messageKind, reason });
    this.o.log.warn({ subject: msg.subject, seq: msg.seq, reason, detail }, 'message sent to the DLQ');
  }

  /** At stop: writes whatever the lanes still hold, due or not. */
  private async writeAllLanes(): Promise<void> {
    for (const [lane, batch] of this.lanes()) {
      if (batch.size > 0) await this.writeBatch(lane, batch);
    }
  }

  /** Writes and acks one batch; if the write gives up, its messages stay in `writing` (for the nak). */
  private async writeBatch(lane: Lane, batch: Batch<Held<R>>): Promise<void> {
    const since = batch.heldSince() ?? Date.now();
    const items = batch.take();
    this.writing.set(items, since);
    this.o.metrics.batchSize.observe({ lane: batch.name }, items.length);
    const rejected = await this.writeIsolating(items);
    const kind = this.messageKind;
    const acked = rejected.size === 0 ? items : items.filter((h) => !rejected.has(h));
    const written = acked.length;
    this.replies.ack(acked.map((h) => h.msg));
    this.o.metrics.written.inc({ kind }, written);
    this.o.metrics.acked.inc({ kind }, written);
    this.writing.delete(items);
    for (const [h, error] of rejected) {
      await this.deadLetter(h.msg, 'rejected_by_database', reasonOf(error));
    }
    this.o.log.debug({ lane, rows: written, rejected: rejected.size }, 'batch written');
  }

  /**
   * Writes the batch, retrying while the database is unavailable. A batch the database
   * refuses for its data is split in halves until the refused rows are isolated; those are
   * returned (for the DLQ) and every other row is written.
   */
  private async writeIsolating(items: Held<R>[]): Promise<Map<Held<R>, unknown>> {
    const { writer, metrics, health } = this.o;
    for (;;) {
      const stopTimer = metrics.writeSeconds.startTimer({ database: writer.database });
      try {
        const stored = await writer.write(items.map((h) => h.row));
        stopTimer();
        if (stored !== undefined && this.o.kind === 'ticks') metrics.duplicates.inc(items.length - stored);
        health.up();
        this.writeBackoff.reset();
        return new Map();
      } catch (error) {
        if (writer.isDataError(error)) {
          metrics.writeFailures.inc({ database: writer.database, cause: 'data' });
          if (items.length === 1) return new Map([[items[0]!, error]]);
          const half = Math.ceil(items.length / 2);
          const left = await this.writeIsolating(items.slice(0, half));
          const right = await this.writeIsolating(items.slice(half));
          return new Map([...left, ...right]);
        }
        metrics.writeFailures.inc({ database: writer.database, cause: 'unavailable' });
        health.down(error);
        if (this.giveUp.signal.aborted) throw new GaveUp();
        const delay = this.writeBackoff.next();
        this.o.log.warn(
          { database: writer.database, rows: items.length, err: reasonOf(error), retryInMs: delay },
          'write failed; holding the batch (not acked) and retrying',
        );
        await sleep(delay, this.giveUp.signal);
        metrics.writeRetries.inc({ database: writer.database });
      }
    }
  }

  /**
   * Tells the server we are still working on the messages held for a while (no redelivery
   * meanwhile). A group (a lane, a batch being written) gets it once its oldest message is
   * half an interval old, so a message waits at most 1.5 intervals (half the ack wait) for
   * its first and one interval between the next; a group written within that gets none.
   */
  private keepAlive(): void {
    const before = Date.now() - this.o.keepAliveMs / 2;
    const groups: (readonly Held<R>[])[] = [];
    for (const [items, since] of this.writing) if (since <= before) groups.push(items);
    for (const [, batch] of this.lanes()) {
      const since = batch.heldSince();
      if (since !== undefined && since <= before) groups.push(batch.peek());
    }
    if (groups.length === 0) return;
    const msgs = groups.flat().map((h) => h.msg);
    this.replies.working(msgs);
    this.o.metrics.progressReplies.inc(msgs.length);
  }
}

class GaveUp extends Error {}
