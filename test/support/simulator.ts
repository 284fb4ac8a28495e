// The Polygon simulator for tests: started in-process on a free port, with a silent
// logger, plus a small WebSocket client that records every frame it receives so that a
// test can wait for what it expects. Shared by the simulator's own tests and by the tests
// of the services that consume the feed.
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { metricValue } from './metrics.js';
import { createLogger } from '../../workloads/src/runtime/logger.js';
import { DEFAULT_SYMBOLS, DEMO_API_KEY } from '../../workloads/src/simulator/config.js';
import { createSimulatorMetrics } from '../../workloads/src/simulator/metrics.js';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../workloads/src/simulator/simulator-server.js';

export const TEST_API_KEY = DEMO_API_KEY;

/**
 * `registry`: where the simulator's metrics go, for tests that count what it served (e.g.
 * `simulator_rest_requests_total`; see restRequestCount).
 */
export async function startTestSimulator(
  overrides: Partial<SimulatorOptions> = {},
  registry: Registry = new Registry(),
): Promise<Simulator> {
  const options: SimulatorOptions = {
    port: 0,
    host: '127.0.0.1',
    apiKey: TEST_API_KEY,
    symbols: DEFAULT_SYMBOLS,
    seed: 42,
    quotesPerSecond: 20,
    historyQuotesPerMinute: 4,
    liveFromMs: Math.floor(Date.now() / 86_400_000) * 86_400_000,
    respectMarketHours: false,
    batchIntervalMs: 25,
    maxEventsPerFrame: 1000,
    authTimeoutMs: 10_000,
    maxBufferedBytes: 16 * 1024 * 1024,
    restRateWindowMs: 60_000,
    restFailures: 0,
    adminEnabled: true,
    ...overrides,
  };
  const log = createLogger('simulator-test', process.env.SIMULATOR_TEST_LOG_LEVEL ?? 'silent');
  return startSimulator(options, log, createSimulatorMetrics(registry));
}

/** REST requests the simulator answered so far, optionally only those with one HTTP status. */
export async function restRequestCount(registry: Registry, status?: number): Promise<number> {
  return metricValue(
    registry,
    'simulator_rest_requests_total',
    status === undefined ? {} : { status: String(status) },
  );
}

export interface PolygonEvent {
  ev: string;
  [field: string]: unknown;
}

/** A WebSocket client that keeps every text frame (raw and parsed) in arrival order. */
export class RecordingClient {
  readonly frames: string[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(data.toString());
      this.notify();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
  }

  static async connect(url: string): Promise<RecordingClient> {
    const socket = new WebSocket(url);
    const client = new RecordingClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Every event of every frame so far, in order (frames that are not JSON arrays are skipped). */
  get events(): PolygonEvent[] {
    return this.frames.flatMap((frame) => {
      try {
        const parsed: unknown = JSON.parse(frame);
        return Array.isArray(parsed) ? (parsed as PolygonEvent[]) : [];
      } catch {
        return [];
      }
    });
  }

  statuses(): PolygonEvent[] {
    return this.events.filter((e) => e.ev === 'status');
  }

  quotes(): PolygonEvent[] {
    return this.events.filter((e) => e.ev === 'C');
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Sends auth and waits for the answer. */
  async authenticate(key = TEST_API_KEY): Promise<PolygonEvent> {
    const before = this.statuses().length;
    this.send({ action: 'auth', params: key });
    await this.waitFor(
      () => this.statuses().length > before && this.statuses().some((s) => /^auth_/.test(String(s.status))),
    );
    return this.statuses()
      .filter((s) => /^auth_/.test(String(s.status)))
      .at(-1)!;
  }

  /** Subscribes and waits for one acknowledgement per topic. */
  async subscribe(
    params: string,
    action: 'subscribe' | 'unsubscribe' = 'subscribe',
  ): Promise<PolygonEvent[]> {
    const before = this.statuses().length;
    this.send({ action, params });
    const topics = params.split(',').length;
    await this.waitFor(() => this.statuses().length >= before + topics);
    return this.statuses().slice(before, before + topics);
  }

  /** Resolves when `condition` holds (checked on every frame and close), or fails after `timeoutMs`. */
  waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; last frames: ${this.frames.slice(-3).join(' | ')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  waitForClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return this.waitFor(() => this.closed !== undefined, timeoutMs, 'close').then(() => this.closed!);
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.terminate();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
