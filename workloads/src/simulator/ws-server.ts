// The forex WebSocket endpoint (`/forex`): handshake, auth, per-topic subscriptions, one
// connection per key (the newer connection evicts the older, as Polygon documents),
// batched quote frames, and slow-consumer protection (bounded buffering per client).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../runtime/logger.js';
import type { SimulatorMetrics } from './metrics.js';
import {
  framesOf,
  knownStatusFrame,
  parseClientMessage,
  parseTopics,
  statusFrame,
  STATUS,
} from './ws-protocol.js';

export const WEBSOCKET_PATH = '/forex';

/** Close codes: Polygon's are undocumented; policy violations use 1008, shutdowns 1001. */
const CLOSE_POLICY = 1008;
const CLOSE_GOING_AWAY = 1001;
/** How long a closing socket may take to finish its close handshake before it is cut. */
const CLOSE_GRACE_MS = 2000;

export interface ForexSocketServerOptions {
  apiKey: string;
  /** Symbols the stream can deliver; `C.*` means these. */
  symbols: readonly string[];
  authTimeoutMs: number;
  /** A client whose unsent data exceeds this is disconnected as a slow consumer. */
  maxBufferedBytes: number;
  maxEventsPerFrame: number;
  /** Test hook: every connection is dropped (TCP reset) this long after it opened. */
  connectionLifetimeMs: number | undefined;
  log: Logger;
  metrics: SimulatorMetrics;
  /** Called after every successful subscribe of a session (used by replay). */
  onSubscribed?: (session: ClientSession) => void;
  onClosed?: (session: ClientSession) => void;
}

export class ClientSession {
  authenticatedKey: string | undefined;
  readonly pairs = new Set<string>();
  allPairs = false;
  /** Set once the server decided to end the connection: nothing more is sent. */
  closing = false;
  readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    readonly remote: string,
  ) {}

  get subscribed(): boolean {
    return this.allPairs || this.pairs.size > 0;
  }

  wants(symbol: string): boolean {
    return this.allPairs || this.pairs.has(symbol);
  }

  send(frame: string): void {
    if (!this.closing && this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
  }
}

/** A quote event of the live stream, already serialized. */
export interface StreamEvent {
  symbol: string;
  json: string;
}

export class ForexSocketServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly sessions = new Set<ClientSession>();
  private readonly configuredSymbols: ReadonlySet<string>;
  private nextId = 1;

  constructor(private readonly options: ForexSocketServerOptions) {
    this.configuredSymbols = new Set(options.symbols);
  }

  /** Takes over an HTTP upgrade request; anything but /forex is refused with 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WEBSOCKET_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Sessions in connection order (for the admin state endpoint and replay). */
  list(): ClientSession[] {
    return [...this.sessions];
  }

  /** Union of the configured symbols that authenticated clients subscribed to. */
  wantedSymbols(): Set<string> {
    const wanted = new Set<string>();
    for (const s of this.sessions) {
      if (!s.authenticatedKey || s.closing) continue;
      if (s.allPairs) return new Set(this.configuredSymbols);
      for (const pair of s.pairs) if (this.configuredSymbols.has(pair)) wanted.add(pair);
    }
    return wanted;
  }

  /** Sends a batch of live quote events (in time order) to every client that wants them. */
  publish(events: readonly StreamEvent[]): void {
    if (events.length === 0) return;
    const { maxEventsPerFrame, metrics } = this.options;
    let allFrames: string[] | undefined;
    for (const session of this.sessions) {
      if (!session.authenticatedKey || session.closing || !session.subscribed) continue;
      let frames: string[];
      let count: number;
      if (session.allPairs) {
        allFrames ??= framesOf(
          events.map((e) => e.json),
          maxEventsPerFrame,
        );
        frames = allFrames;
        count = events.length;
      } else {
        const mine = events.filter((e) => session.pairs.has(e.symbol)).map((e) => e.json);
        frames = framesOf(mine, maxEventsPerFrame);
        count = mine.length;
      }
      for (const frame of frames) session.send(frame);
      metrics.framesSent.inc(frames.length);
      metrics.quotesSent.inc(count);
      if (session.socket.bufferedAmount > this.options.maxBufferedBytes) this.dropSlowConsumer(session);
    }
  }

  /** Test hook: ends every connection, by TCP reset or with a force_disconnect status. */
  disconnectAll(mode: 'terminate' | 'force_disconnect'): number {
    const sessions = [...this.sessions].filter((s) => !s.closing);
    for (const session of sessions) {
      if (mode === 'terminate') this.terminate(session, 'admin');
      else this.closeWithStatus(session, 'forceDisconnect', CLOSE_GOING_AWAY, 'admin');
    }
    return sessions.length;
  }

  /** Stops accepting and closes every connection (server shutdown). */
  async close(): Promise<void> {
    for (const session of this.sessions) {
      this.closeWithStatus(session, 'forceDisconnect', CLOSE_GOING_AWAY, 'shutdown');
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const session of this.sessions) session.socket.terminate();
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const { log, metrics } = this.options;
    const session = new ClientSession(
      this.nextId++,
      socket,
      `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    );
    this.sessions.add(session);
    metrics.connections.set(this.sessions.size);
    log.info({ connection: session.id, remote: session.remote }, 'client connected');

    socket.on('message', (data, isBinary) => this.onMessage(session, isBinary ? '' : data.toString()));
    socket.on('error', (error) => log.warn({ connection: session.id, err: error }, 'client socket error'));
    socket.on('close', (code) => {
      for (const timer of session.timers) clearTimeout(timer);
      this.sessions.delete(session);
      metrics.connections.set(this.sessions.size);
      if (!session.closing) metrics.disconnects.inc({ reason: 'client' });
      log.info({ connection: session.id, code }, 'client disconnected');
      this.options.onClosed?.(session);
    });

    session.send(knownStatusFrame('connected'));
    session.timers.push(
      setTimeout(() => {
        if (session.authenticatedKey) return;
        metrics.auths.inc({ result: 'timeout' });
        this.closeWithStatus(session, 'authTimeout', CLOSE_POLICY, 'auth_timeout');
      }, this.options.authTimeoutMs),
    );
    if (this.options.connectionLifetimeMs !== undefined) {
      session.timers.push(
        setTimeout(() => this.terminate(session, 'lifetime'), this.options.connectionLifetimeMs),
      );
    }
  }

  private onMessage(session: ClientSession, text: string): void {
    if (session.closing) return;
    const message = parseClientMessage(text);
    if (!message) {
      session.send(statusFrame('error', 'invalid message: expected {"action":…,"params":"…"}'));
      return;
    }
    switch (message.action) {
      case 'auth':
        return this.authenticate(session, message.params);
      case 'subscribe':
      case 'unsubscribe':
        return this.changeSubscriptions(session, message.action, message.params);
      default:
        session.send(statusFrame('error', `unknown action: ${message.action}`));
    }
  }

  private authenticate(session: ClientSession, key: string): void {
    const { log, metrics } = this.options;
    if (key !== this.options.apiKey) {
      metrics.auths.inc({ result: 'failed' });
      log.info({ connection: session.id }, 'authentication failed');
      this.closeWithStatus(session, 'authFailed', CLOSE_POLICY, 'auth_failed');
      return;
    }
    metrics.auths.inc({ result: 'success' });
    // One connection per key: the older connection goes (FIFO eviction, polygon-forex.md §1.6).
    for (const other of this.sessions) {
      if (other !== session && other.authenticatedKey === key && !other.closing) {
        log.info({ connection: other.id, by: session.id }, 'evicting older connection of the same key');
        this.closeWithStatus(other, 'maxConnections', CLOSE_POLICY, 'max_connections');
      }
    }
    session.authenticatedKey = key;
    session.send(knownStatusFrame('authSuccess'));
    log.info({ connection: session.id }, 'client authenticated');
  }

  private changeSubscriptions(
    session: ClientSession,
    action: 'subscribe' | 'unsubscribe',
    params: string,
  ): void {
    if (!session.authenticatedKey) {
      session.send(knownStatusFrame('authRequired'));
      return;
    }
    const topics = parseTopics(params);
    if (topics.length === 0) {
      session.send(statusFrame('error', `nothing to ${action}: params is empty`));
      return;
    }
    for (const topic of topics) {
      if (topic.kind === 'invalid') {
        session.send(statusFrame('error', `invalid topic: ${topic.text}`));
        continue;
      }
      // Channels other than C (CA, CAS, …) are acknowledged and never streamed.
      if (topic.kind === 'quotes') {
        const subscribe = action === 'subscribe';
        if (topic.pair === '*') {
          session.allPairs = subscribe;
          // As Polygon's Python client does: a wildcard subscription replaces single pairs.
          session.pairs.clear();
        } else if (subscribe) session.pairs.add(topic.pair);
        else session.pairs.delete(topic.pair);
      }
      session.send(statusFrame('success', `${action}d to: ${topic.text}`));
    }
    this.options.log.info(
      { connection: session.id, action, params, all: session.allPairs, pairs: [...session.pairs] },
      'subscriptions changed',
    );
    if (action === 'subscribe' && session.subscribed) this.options.onSubscribed?.(session);
  }

  private dropSlowConsumer(session: ClientSession): void {
    this.options.log.warn(
      {
        connection: session.id,
        bufferedBytes: session.socket.bufferedAmount,
        limit: this.options.maxBufferedBytes,
      },
      'slow consumer: closing',
    );
    this.closeWithStatus(session, 'slowConsumer', CLOSE_POLICY, 'slow_consumer');
  }

  private closeWithStatus(
    session: ClientSession,
    status: keyof typeof STATUS,
    code: number,
    reason: string,
  ): void {
    if (session.closing) return;
    session.send(knownStatusFrame(status));
    session.closing = true;
    this.options.metrics.disconnects.inc({ reason });
    session.socket.close(code, STATUS[status][0]);
    // A client that does not answer the close handshake (or is not reading) is cut.
    session.timers.push(setTimeout(() => session.socket.terminate(), CLOSE_GRACE_MS));
  }

  private terminate(session: ClientSession, reason: string): void {
    if (session.closing) return;
    session.closing = true;
    this.options.metrics.disconnects.inc({ reason });
    this.options.log.info({ connection: session.id, reason }, 'dropping connection');
    session.socket.terminate();
  }
}
