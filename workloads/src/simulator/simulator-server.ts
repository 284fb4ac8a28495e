// Puts the simulator together on one HTTP port: the WebSocket feed at /forex (upgrade
// requests), the admin test hooks under /admin/, and Polygon's REST API for everything
// else. Used by the `simulate` command and, in-process, by the integration tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../runtime/logger.js';
import { ADMIN_PREFIX, AdminApi } from './admin-api.js';
import { FaultInjector } from './faults.js';
import { LiveQuoteStream } from './live-stream.js';
import type { SimulatorMetrics } from './metrics.js';
import { gridForRate, type TimelineOptions } from './quote-timeline.js';
import { SlidingWindowRateLimiter } from './rate-limiter.js';
import { ReplayPlayer } from './replay.js';
import { RestApi } from './rest-api.js';
import { ForexSocketServer, WEBSOCKET_PATH } from './ws-server.js';

export interface SimulatorOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  apiKey: string;
  symbols: readonly string[];
  seed: number;
  /** Live WebSocket rate per symbol. */
  quotesPerSecond: number;
  /** Density of REST history (before liveFromMs) per symbol. */
  historyQuotesPerMinute: number;
  /** From here on, REST serves quotes at the live rate (and the live market-hours rule). */
  liveFromMs: number;
  respectMarketHours: boolean;
  batchIntervalMs: number;
  maxEventsPerFrame: number;
  authTimeoutMs: number;
  maxBufferedBytes: number;
  connectionLifetimeMs?: number;
  /** Undefined: unlimited. */
  restRequestsPerMinute?: number;
  restRateWindowMs: number;
  restFailures: number;
  adminEnabled: boolean;
  /**
   * The simulator's clock (default Date.now): live quotes are stamped with it and REST
   * answers up to it. Tests run the pipeline at a chosen instant (e.g. just before a week's
   * bars all close) by giving the simulator and the collector the same shifted clock.
   */
  now?: () => number;
  /**
   * After a stall longer than this the live stream skips ahead, as an outage would lose the
   * quotes (default 10 s). Tests on a fast clock raise it: there a stall of the test process
   * is not an outage of the feed.
   */
  maxCatchUpMs?: number;
  /** Replay mode (no generated stream) when set. */
  replay?: { frames: readonly string[]; framesPerSecond: number; loop: boolean };
}

export interface Simulator {
  port: number;
  /** ws://host:port/forex */
  webSocketUrl: string;
  /** http://host:port (Polygon's REST base URL) */
  restUrl: string;
  sockets: ForexSocketServer;
  faults: FaultInjector;
  replay: ReplayPlayer | undefined;
  timeline: TimelineOptions;
  close(): Promise<void>;
}

const MAX_CATCH_UP_MS = 10_000;

export async function startSimulator(
  options: SimulatorOptions,
  log: Logger,
  metrics: SimulatorMetrics,
): Promise<Simulator> {
  const liveGrid = gridForRate(options.quotesPerSecond);
  const timeline: TimelineOptions = {
    historyGrid: gridForRate(options.historyQuotesPerMinute / 60),
    liveGrid,
    liveFromMs: options.liveFromMs,
    liveRespectsMarketHours: options.respectMarketHours,
  };
  const faults = new FaultInjector();
  if (options.restFailures > 0) faults.failNextRestRequests(options.restFailures);

  const replay = options.replay && new ReplayPlayer({ ...options.replay, log, metrics });
  const sockets = new ForexSocketServer({
    apiKey: options.apiKey,
    symbols: options.symbols,
    authTimeoutMs: options.authTimeoutMs,
    maxBufferedBytes: options.maxBufferedBytes,
    maxEventsPerFrame: options.maxEventsPerFrame,
    connectionLifetimeMs: options.connectionLifetimeMs,
    log,
    metrics,
    onSubscribed: (session) => replay?.offer(session),
    onClosed: (session) => {
      replay?.release(session);
      // Hand the rest of the replay to another client that is already subscribed.
      const next = sockets.list().find((s) => s.authenticatedKey && s.subscribed && !s.closing);
      if (next) replay?.offer(next);
    },
  });
  const rest = new RestApi({
    apiKey: options.apiKey,
    seed: options.seed,
    timeline,
    limiter:
      options.restRequestsPerMinute === undefined
        ? undefined
        : new SlidingWindowRateLimiter(options.restRequestsPerMinute, options.restRateWindowMs),
    faults,
    log,
    metrics,
    now: options.now,
  });
  const admin = options.adminEnabled ? new AdminApi({ sockets, faults, replay, log }) : undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (admin && url.pathname.startsWith(ADMIN_PREFIX)) return admin.handle(req, res, url);
    rest.handle(req, res, url).catch((error: unknown) => {
      log.error({ err: error, path: url.pathname }, 'REST handler failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'ERROR', error: 'internal error' }));
    });
  });
  server.on('upgrade', (req, socket, head) => sockets.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const stream = replay
    ? undefined
    : new LiveQuoteStream(
        {
          seed: options.seed,
          symbols: options.symbols,
          grid: liveGrid,
          respectMarketHours: options.respectMarketHours,
          batchIntervalMs: options.batchIntervalMs,
          maxCatchUpMs: options.maxCatchUpMs ?? MAX_CATCH_UP_MS,
          log,
          metrics,
          now: options.now,
        },
        sockets,
      );
  stream?.start();

  const shownHost =
    !options.host || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  log.info(
    {
      port,
      symbols: options.symbols,
      liveQuotesPerSecond: options.quotesPerSecond,
      liveGridMs: liveGrid.periodMs,
      historyQuotesPerMinute: options.historyQuotesPerMinute,
      liveFrom: new Date(options.liveFromMs).toISOString(),
      replayFrames: options.replay?.frames.length,
    },
    'simulator listening',
  );
  return {
    port,
    webSocketUrl: `ws://${shownHost}:${port}${WEBSOCKET_PATH}`,
    restUrl: `http://${shownHost}:${port}`,
    sockets,
    faults,
    replay,
    timeline,
    async close() {
      stream?.stop();
      replay?.stop();
      await sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
