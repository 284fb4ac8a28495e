// The Polygon (Massive) forex WebSocket session: connect, authenticate, subscribe once
// authenticated, keep the socket alive, and reconnect with backoff when it drops, for as
// long as the collector runs. Quotes and the events it cannot use go to a listener; the
// protocol itself (polygon-forex.md §1.2–1.8) stays in here.
import WebSocket from 'ws';
import { polygonPair } from '../contracts/symbols.js';
import { Backoff, sleep } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import {
  isAuthSuccess,
  parseFrame,
  subscribedTopic,
  type MalformedEvent,
  type Quote,
  type RejectedQuote,
} from './polygon-frames.js';

export interface FeedListener {
  /** Quotes of one frame, and the wall-clock time the frame arrived. */
  quotes(quotes: Quote[], receivedAtMs: number): void;
  rejected(rejected: RejectedQuote[]): void;
  malformed(events: MalformedEvent[], wholeFrame: boolean): void;
  unknownEvents(types: string[]): void;
  /** An authenticated connection is gone (not by our shutdown); a reconnect follows. */
  connectionLost(reason: string, atMs: number): void;
  /** A reconnect is scheduled after `delayMs`. */
  reconnecting(reason: string, delayMs: number): void;
  /**
   * The subscription of this connection is confirmed (every topic acknowledged, or the first
   * quote arrived): from now on every quote of the symbols reaches us (coverage starts).
   */
  subscribed?(): void;
}

export interface FeedOptions {
  url: string;
  apiKey: string;
  symbols: readonly string[];
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** First delay after an eviction (max_connections); doubles while evictions go on, up to 5×. */
  evictedReconnectMs: number;
  authTimeoutMs: number;
  /** Protocol ping every this often; the socket is dropped after two intervals of silence. */
  pingIntervalMs?: number;
}

/** Polygon refused the key: retrying cannot help, so the collector stops. */
export class PolygonAuthError extends Error {
  constructor(serverMessage: string) {
    super(
      `Polygon rejected POLYGON_API_KEY (auth_failed: ${serverMessage || 'no message'}). ` +
        'Check that the key is valid and that its plan includes the forex WebSocket (Currencies Starter or higher).',
    );
    this.name = 'PolygonAuthError';
  }
}

/** How one connection ended. */
interface Outcome {
  reason: string;
  evicted: boolean;
  fatal?: PolygonAuthError;
}

const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class PolygonFeed {
  private readonly backoff: Backoff;
  private readonly evictionBackoff: Backoff;
  private readonly topics: string[];
  private socket: WebSocket | undefined;
  private authenticated = false;
  private unackedTopics = new Set<string>();
  private quotesOnThisConnection = false;
  private subscribedReported = false;

  constructor(
    private readonly options: FeedOptions,
    private readonly listener: FeedListener,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff({ initialMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    this.evictionBackoff = new Backoff({
      initialMs: options.evictedReconnectMs,
      maxMs: options.evictedReconnectMs * 5,
      jitter: 0.5,
    });
    this.topics = options.symbols.map((s) => `C.${polygonPair(s)}`);
  }

  /** Undefined when authenticated and subscribed, else why not (for /readyz). */
  notReady(): string | undefined {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return 'Polygon WebSocket not connected';
    if (!this.authenticated) return 'Polygon WebSocket not authenticated';
    if (this.unackedTopics.size > 0 && !this.quotesOnThisConnection) {
      return `Polygon subscription not confirmed for ${[...this.unackedTopics].join(',')}`;
    }
    return undefined;
  }

  /**
   * Runs sessions until `signal` aborts (resolves) or Polygon refuses the key (rejects
   * with PolygonAuthError).
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const outcome = await this.session(signal);
      if (outcome.fatal) throw outcome.fatal;
      if (signal.aborted) return;
      const delayMs = outcome.evicted ? this.evictionBackoff.next() : this.backoff.next();
      this.listener.reconnecting(outcome.evicted ? 'max_connections' : outcome.reason, delayMs);
      await sleep(delayMs, signal);
    }
  }

  private session(signal: AbortSignal): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const ws = new WebSocket(this.options.url, {
        handshakeTimeout: this.options.authTimeoutMs,
        maxPayload: MAX_FRAME_BYTES,
      });
      this.socket = ws;
      this.authenticated = false;
      this.quotesOnThisConnection = false;
      this.subscribedReported = false;
      this.unackedTopics = new Set(this.topics);
      let opened = false;
      let ending: Outcome | undefined;
      let lastHeard = Date.now();
      const pingEvery = this.options.pingIntervalMs ?? 25_000;

      /** Remember why we are closing; the close event resolves. */
      const end = (outcome: Outcome, code = 1000) => {
        ending ??= outcome;
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else if (ws.readyState === WebSocket.OPEN) ws.close(code);
      };
      const onAbort = () => end({ reason: 'shutdown', evicted: false });
      signal.addEventListener('abort', onAbort, { once: true });

      const authTimer = setTimeout(
        () => end({ reason: 'auth_timeout', evicted: false }, 4000),
        this.options.authTimeoutMs,
      );
      // Protocol pings both keep proxies from closing a quiet socket (weekends are quiet)
      // and reveal a dead one: no data and no pong for two intervals ends the session.
      const heartbeat = setInterval(() => {
        if (Date.now() - lastHeard > 2 * pingEvery) {
          ending ??= { reason: 'heartbeat_timeout', evicted: false };
          ws.terminate();
        } else if (ws.readyState === WebSocket.OPEN) ws.ping();
      }, pingEvery);

      ws.on('open', () => {
        opened = true;
        lastHeard = Date.now();
        this.log.info({ url: this.options.url }, 'Polygon WebSocket open');
      });
      ws.on('pong', () => (lastHeard = Date.now()));
      ws.on('message', (data: WebSocket.RawData) => {
        const receivedAtMs = Date.now();
        lastHeard = receivedAtMs;
        const frame = parseFrame(data.toString());
        for (const status of frame.statuses) this.onStatus(ws, status, end, authTimer);
        if (frame.quotes.length > 0) {
          if (!this.quotesOnThisConnection) {
            this.quotesOnThisConnection = true;
            // Quotes flow: this connection works, so the next failure starts from the shortest delay.
            this.backoff.reset();
            this.evictionBackoff.reset();
            this.reportSubscribed();
          }
          this.listener.quotes(frame.quotes, receivedAtMs);
        }
        if (frame.rejected.length > 0) this.listener.rejected(frame.rejected);
        if (frame.malformed.length > 0) this.listener.malformed(frame.malformed, frame.malformedFrame);
        if (frame.unknown.length > 0) this.listener.unknownEvents(frame.unknown);
      });
      ws.on('error', (error) => {
        // 'close' follows every 'error'; only remember the cause.
        ending ??= { reason: opened ? 'socket_error' : 'connect_failed', evicted: false };
        this.log.warn({ err: error.message, url: this.options.url }, 'Polygon WebSocket error');
      });
      ws.on('close', (code, reasonBuffer) => {
        clearTimeout(authTimer);
        clearInterval(heartbeat);
        signal.removeEventListener('abort', onAbort);
        const wasAuthenticated = this.authenticated;
        this.authenticated = false;
        const outcome = ending ?? { reason: 'closed_by_server', evicted: false };
        if (opened) {
          // Only a subscribed connection can lose quotes (a failed attempt extends the gap
          // already open); our own shutdown misses nothing, and a restart's downtime is
          // the gap detector's job.
          if (wasAuthenticated && outcome.reason !== 'shutdown')
            this.listener.connectionLost(outcome.reason, Date.now());
          const log =
            outcome.reason === 'shutdown' ? this.log.info.bind(this.log) : this.log.warn.bind(this.log);
          log(
            { code, serverReason: reasonBuffer.toString(), reason: outcome.reason },
            'Polygon WebSocket closed',
          );
        }
        resolve(outcome);
      });
    });
  }

  private reportSubscribed(): void {
    if (this.subscribedReported) return;
    this.subscribedReported = true;
    this.listener.subscribed?.();
  }

  private onStatus(
    ws: WebSocket,
    status: { status: string; message: string },
    end: (outcome: Outcome, code?: number) => void,
    authTimer: NodeJS.Timeout,
  ): void {
    const topic = subscribedTopic(status);
    if (topic !== undefined) {
      this.unackedTopics.delete(topic);
      if (this.unackedTopics.size === 0 && this.authenticated) this.reportSubscribed();
      return;
    }
    if (isAuthSuccess(status)) {
      clearTimeout(authTimer);
      this.authenticated = true;
      // Subscriptions are only accepted after auth_success; all symbols in one message.
      ws.send(JSON.stringify({ action: 'subscribe', params: this.topics.join(',') }));
      this.log.info({ topics: this.topics }, 'Polygon authenticated; subscribing');
      return;
    }
    switch (status.status) {
      case 'connected':
        ws.send(JSON.stringify({ action: 'auth', params: this.options.apiKey }));
        return;
      case 'auth_failed':
        this.log.fatal({ serverMessage: status.message }, 'Polygon rejected POLYGON_API_KEY (auth_failed)');
        end({ reason: 'auth_failed', evicted: false, fatal: new PolygonAuthError(status.message) });
        return;
      case 'auth_timeout':
        this.log.warn({ serverMessage: status.message }, 'Polygon reported auth_timeout');
        end({ reason: 'auth_timeout', evicted: false });
        return;
      case 'max_connections':
        // Polygon allows one connection per key and cluster and evicts the older one: some
        // other client (a second collector, a developer's script) uses this key.
        this.log.error(
          { serverMessage: status.message },
          'Polygon evicted this connection (max_connections): another client is connected with the same ' +
            'POLYGON_API_KEY; only one collector may run per key. Reconnecting after a longer delay.',
        );
        end({ reason: 'max_connections', evicted: true });
        return;
      case 'force_disconnect':
      case 'slow_consumer':
        this.log.warn(
          { status: status.status, serverMessage: status.message },
          'Polygon is disconnecting us',
        );
        end({ reason: status.status, evicted: false });
        return;
      case 'error':
      case 'auth_required':
        this.log.error({ status: status.status, serverMessage: status.message }, 'Polygon refused a request');
        return;
      default:
        this.log.info({ status: status.status, serverMessage: status.message }, 'Polygon status');
    }
  }
}
