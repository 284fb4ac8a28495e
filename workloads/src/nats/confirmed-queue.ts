// A bounded, ordered queue that publishes to JetStream and keeps every message until
// JetStream has confirmed it, retrying (same message id, so the server drops a copy it
// already stored) for as long as it takes. Built for a continuous stream such as the
// collector's ticks: many publishes in flight (a window), one subscription for all the
// confirmations and one timer for all the timeouts. That is about four times the rate of
// awaiting `js.publish()` per message, which creates a request, a promise and a timer for
// each one. For a finite batch, publish.ts publishConfirmed is the simpler tool.
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { Backoff } from '../runtime/backoff.js';
import { PendingLog, type Entry } from './pending-log.js';

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
}

/** The server writes `"duplicate": true` (with a space) into the ack of a repeated id. */
const DUPLICATE = /"duplicate":\s*true/;

interface Sent<T> {
  entry: Entry<T>;
  at: number;
}

export class ConfirmedPublishQueue<T extends QueuedMessage> {
  private readonly pending: PendingLog<T>;
  private readonly inFlight = new Map<number, Sent<T>>();
  private readonly inbox = createInbox();
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
    // One pump per turn of the event loop: a frame of many quotes, or a burst of
    // confirmations, refills the window once.
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.closed || this.pauseTimer) return;
    while (this.inFlight.size < this.options.window) {
      const entry = this.pending.takeNext();
      if (!entry) return;
      const id = this.nextSendId++;
      const h = headers();
      h.set('Nats-Msg-Id', entry.item.msgId);
      try {
        this.nc.publish(entry.item.subject, entry.item.data, { reply: `${this.inbox}.${id}`, headers: h });
      } catch (error) {
        this.fail(entry, `publish failed: ${(error as Error).message}`, false);
        return;
      }
      this.inFlight.set(id, { entry, at: performance.now() });
    }
  }

  private onReply(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const sent = this.inFlight.get(id);
    // Unknown id: a confirmation that came after its timeout; the retry gets its own.
    if (!sent) return;
    this.inFlight.delete(id);
    if (msg.headers?.code === 503) {
      this.fail(sent.entry, 'no responders: no JetStream stream takes this subject', true);
      return;
    }
    const text = msg.data.length > 0 ? msg.string() : '';
    if (!text.startsWith('{') || text.includes('"error"')) {
      this.fail(sent.entry, `JetStream refused the message: ${describeReply(text, msg)}`, false);
      return;
    }
    this.pending.confirm(sent.entry);
    this.backoff.reset();
    this.options.onConfirmed?.(sent.entry.item, DUPLICATE.test(text), (performance.now() - sent.at) / 1000);
    this.schedulePump();
  }

  private expireUnanswered(): void {
    const oldest = performance.now() - this.options.ackTimeoutMs;
    // Map iteration follows insertion, i.e. send order: stop at the first recent one.
    for (const [id, sent] of this.inFlight) {
      if (sent.at > oldest) break;
      this.inFlight.delete(id);
      this.fail(sent.entry, `no confirmation within ${this.options.ackTimeoutMs} ms`, false);
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
