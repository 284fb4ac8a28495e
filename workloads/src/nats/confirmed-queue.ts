// A bounded, ordered queue that publishes to JetStream and keeps every message until
// JetStream has confirmed it, retrying (same message id, so the server drops a copy it
// already stored) for as long as it takes. Built for a continuous stream such as the
// collector's ticks: many publishes in flight (a window), one subscription for all the
// confirmations and one timer for all the timeouts. That is about four times the rate of
// awaiting `js.publish()` per message, which creates a request, a promise and a timer for
// each one. For a finite batch, publish.ts publishConfirmed is the simpler tool.
//
// Per message the hot path allocates as little as it can (bench/collector-throughput.ts):
// the window is refilled once per turn of the event loop, after its I/O, and the publishes
// of that refill are written as one piece (wire-batch.ts) rather than one encoded message
// at a time; the send time and id live on the log entry.
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { Backoff } from '../runtime/backoff.js';
import { PendingLog, type Entry } from './pending-log.js';
import { WireBatch } from './wire-batch.js';

export interface QueuedMessage {
  subject: string;
  data: string | Uint8Array;
  /** Nats-Msg-Id: the message's deterministic identity. */
  msgId: string;
}

export interface ConfirmedQueueOptions<T extends QueuedMessage> {
  /** Messages held (queued + in flight); offer() refuses beyond it. */
  capacity: number;
  /** Publishes awaiting confirmation at once. */
  window: number;
  /** A publish unconfirmed after this long is sent again. */
  ackTimeoutMs: number;
  /** Pause after a failed publish before sending again; grows while failures go on. */
  retry?: { initialMs: number; maxMs: number };
  onConfirmed?(item: T, duplicate: boolean, latencySeconds: number): void;
  /** A publish failed and will be retried (no stream, JetStream error, timeout, closed connection). */
  onSendFailed?(reason: string, noStream: boolean): void;
  /**
   * Prefix of the confirmations' inbox: the connection's own (PipelineNames.inboxPrefix), so
   * a NATS user limited to its pipeline's inboxes may subscribe to it. Default `_INBOX`.
   */
  inboxPrefix?: string;
}

/** The server writes `"duplicate": true` (with a space) into the ack of a repeated id. */
const DUPLICATE = /"duplicate":\s*true/;

export class ConfirmedPublishQueue<T extends QueuedMessage> {
  private readonly pending: PendingLog<T>;
  /** Entries published and not yet answered, by send id, in send order. */
  private readonly inFlight = new Map<number, Entry<T>>();
  private readonly inbox: string;
  private readonly replyPrefix: string;
  /** Batched writes when the client allows them, else one publish() per message. */
  private readonly wire: WireBatch | undefined;
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private readonly backoff: Backoff;
  private nextSendId = 1;
  private pumpScheduled = false;
  private pauseTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: ConfirmedQueueOptions<T>,
  ) {
    this.pending = new PendingLog<T>(options.capacity);
    this.inbox = createInbox(options.inboxPrefix);
    this.replyPrefix = `${this.inbox}.`;
    this.wire = WireBatch.for(nc);
    this.backoff = new Backoff({ initialMs: 100, maxMs: 5000, ...options.retry });
    // The client re-subscribes this after a reconnect, so confirmations keep arriving.
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (_error, msg) => this.onReply(msg) });
    const sweepEvery = Math.max(20, Math.min(1000, Math.floor(options.ackTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.expireUnanswered(), sweepEvery);
    this.sweeper.unref();
  }

  /** Queues a message; false when the queue is full (the caller decides what that means). */
  offer(item: T): boolean {
    if (this.closed || !this.pending.push(item)) return false;
    this.schedulePump();
    return true;
  }

  /** Messages not yet confirmed (queued + in flight). */
  get depth(): number {
    return this.pending.size;
  }

  /** Messages accepted by offer() so far (a position in offer order). */
  get offered(): number {
    return this.pending.pushed;
  }

  /** Every message offered before this position is confirmed by JetStream. */
  get confirmedBefore(): number {
    return this.pending.confirmedBefore;
  }

  get capacity(): number {
    return this.options.capacity;
  }

  /** Resolves true once everything offered so far is confirmed, false at the deadline. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && !this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.pending.size === 0;
  }

  /** Stops publishing and returns what was never confirmed (oldest first). */
  close(): T[] {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.sweeper);
      clearTimeout(this.pauseTimer);
      if (!this.nc.isClosed()) this.subscription.unsubscribe();
    }
    return this.pending.unconfirmed();
  }

  private schedulePump(): void {
    // One pump per turn of the event loop, after its I/O: every frame of quotes and every
    // confirmation that arrived in this turn refills the window once.
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.closed || this.pauseTimer) return;
    const sending: Entry<T>[] = [];
    const firstId = this.nextSendId;
    try {
      while (this.inFlight.size + sending.length < this.options.window) {
        const entry = this.pending.takeNext();
        if (!entry) break;
        const id = this.nextSendId++;
        sending.push(entry);
        const { subject, msgId, data } = entry.item;
        const reply = this.replyPrefix + id;
        if (this.wire?.add(subject, reply, msgId, data)) continue;
        // Not for the batch: what is batched goes first, so the order on the wire holds.
        this.wire?.write();
        const h = headers();
        h.set('Nats-Msg-Id', msgId);
        this.nc.publish(subject, data, { reply, headers: h });
      }
      this.wire?.write();
    } catch (error) {
      // Retry all of this refill: a message that did reach the server comes back as a duplicate.
      this.wire?.clear();
      for (const entry of sending) this.fail(entry, `publish failed: ${(error as Error).message}`, false);
      return;
    }
    const now = performance.now();
    for (let i = 0; i < sending.length; i++) {
      sending[i]!.sentAt = now;
      this.inFlight.set(firstId + i, sending[i]!);
    }
  }

  private onReply(msg: Msg): void {
    const id = Number(msg.subject.slice(this.replyPrefix.length));
    const entry = this.inFlight.get(id);
    // Unknown id: a confirmation that came after its timeout; the retry gets its own.
    if (!entry) return;
    this.inFlight.delete(id);
    if (msg.headers?.code === 503) {
      this.fail(entry, 'no responders: no JetStream stream takes this subject', true);
      return;
    }
    const text = msg.data.length > 0 ? msg.string() : '';
    if (!text.startsWith('{') || text.includes('"error"')) {
      this.fail(entry, `JetStream refused the message: ${describeReply(text, msg)}`, false);
      return;
    }
    this.pending.confirm(entry);
    this.backoff.reset();
    this.options.onConfirmed?.(entry.item, DUPLICATE.test(text), (performance.now() - entry.sentAt) / 1000);
    this.schedulePump();
  }

  private expireUnanswered(): void {
    const oldest = performance.now() - this.options.ackTimeoutMs;
    // Map iteration follows insertion, i.e. send order: stop at the first recent one.
    for (const [id, entry] of this.inFlight) {
      if (entry.sentAt > oldest) break;
      this.inFlight.delete(id);
      this.fail(entry, `no confirmation within ${this.options.ackTimeoutMs} ms`, false);
    }
  }

  private fail(entry: Entry<T>, reason: string, noStream: boolean): void {
    this.pending.retry(entry);
    this.options.onSendFailed?.(reason, noStream);
    if (this.pauseTimer || this.closed) return;
    // Pause the whole queue, not just this message: the next ones would fail the same way.
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.pump();
    }, this.backoff.next());
  }
}

function describeReply(text: string, msg: Msg): string {
  if (text === '')
    return `empty reply${msg.headers ? ` (status ${msg.headers.code} ${msg.headers.description})` : ''}`;
  try {
    const error = (JSON.parse(text) as { error?: { description?: string; err_code?: number } }).error;
    if (error) return `${error.description ?? 'error'} (err_code ${error.err_code ?? '?'})`;
  } catch {
    // fall through to the raw text
  }
  return text.slice(0, 200);
}
