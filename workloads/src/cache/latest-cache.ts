// The bridge's writer of the latest-quote cache: after a batch committed to its database,
// the bridge offers its rows here (offer*, synchronous, never awaited on the ack path).
//
// A cache outage must never block or slow the database writes, so:
// - offers only update an in-memory map of the newest value per key (coalescing: between two
//   flushes a key is sent once, with its newest value), bounded by MAX_PENDING_KEYS (one
//   entry per tenant+symbol and tenant+symbol+timeframe, so in practice it never fills);
// - one flush at a time sends the map as one pipeline of EVALSHA calls (cache/client.ts),
//   and fails fast when the server is away (no offline queue, command timeout);
// - a failed flush is counted and logged (throttled), its values go back into the map unless
//   a newer one arrived meanwhile, and the next flush is tried after a capped backoff: the
//   cache catches up with the newest values when the server returns, with no replay needed.
// - the newest value of every key this bridge has seen is remembered (one entry per key),
//   and sent again whenever the connection is re-established: a cache that restarted empty
//   gets back even the keys that change rarely (a 1w bar) without waiting for their next value.
// The compare on the server (rank) makes the order of flushes, replicas and retries
// irrelevant: a value never goes backwards.
//
// TTL: ticks CACHE_TTL_SECONDS; bars CACHE_TTL_SECONDS plus their timeframe, so that the
// latest bar of a timeframe stays until the next one is due (a weekly bar lives 14 days).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { BarRow, TickRow } from '../bridge/rows.js';
import { Backoff } from '../runtime/backoff.js';
import { reasonOf } from '../runtime/failure.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import type { Logger } from '../runtime/logger.js';
import { createCacheClient, type CacheConnection } from './client.js';
import { TIMEFRAME_MS, type Timeframe } from '../contracts/timeframes.js';
import { barKey, barRank, cachedBar, cachedTick, tickKey, tickRank } from './keys.js';

type Kind = 'tick' | 'bar';

interface Pending {
  kind: Kind;
  rank: string;
  value: string;
  ttlMs: number;
}

/** Keys remembered (and waiting), at most: far above tenants × symbols × (1 + timeframes) of a bridge. */
export const MAX_PENDING_KEYS = 100_000;
/** Keys per pipeline sent in one flush. */
const FLUSH_KEYS = 2_000;

export type CacheMetrics = ReturnType<typeof createCacheMetrics>;

export function createCacheMetrics(registry: Registry) {
  const registers = [registry];
  return {
    updates: new Counter({
      name: 'market_pipeline_bridge_cache_updates_total',
      help: 'Values sent to the latest-quote cache, by kind and outcome (stored; older: the cache already held a newer value)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    coalesced: new Counter({
      name: 'market_pipeline_bridge_cache_coalesced_total',
      help: 'Values replaced by a newer value of the same key before they were sent',
      registers,
    }),
    failures: new Counter({
      name: 'market_pipeline_bridge_cache_failures_total',
      help: 'Cache writes that failed (the newest value per key is sent again on the next flush)',
      registers,
    }),
    dropped: new Counter({
      name: 'market_pipeline_bridge_cache_dropped_total',
      help: 'Values not cached because MAX_PENDING_KEYS keys were already waiting',
      registers,
    }),
    pending: new Gauge({
      name: 'market_pipeline_bridge_cache_pending_keys',
      help: 'Keys waiting to be written to the cache',
      registers,
    }),
    up: new Gauge({
      name: 'market_pipeline_bridge_cache_up',
      help: '1 while the last cache write succeeded, 0 after a failed one',
      registers,
    }),
  };
}

export interface LatestCacheOptions {
  ttlSeconds: number;
  log: Logger;
  metrics: CacheMetrics;
}

export class LatestCache {
  private pending = new Map<string, Pending>();
  /** The newest value seen per key, re-sent after a reconnect. */
  private readonly latest = new Map<string, Pending>();
  private connectedBefore = false;
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 5_000, jitter: 0.3 });
  private readonly throttle: LogThrottle;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly o: LatestCacheOptions,
  ) {
    this.ttlMs = o.ttlSeconds * 1000;
    this.throttle = new LogThrottle(o.log);
    o.metrics.up.set(0);
    // Connection errors surface here (and as failed flushes); without a listener ioredis
    // would print them to stderr itself.
    redis.on('error', (error: unknown) =>
      this.throttle.write('warn', 'cache_connection', { err: reasonOf(error) }, 'cache connection error'),
    );
    redis.on('ready', () => {
      if (this.connectedBefore) this.resendLatest();
      this.connectedBefore = true;
    });
  }

  /** After a reconnect: the server may have restarted empty; its compare drops what it has already. */
  private resendLatest(): void {
    for (const [key, p] of this.latest) {
      const queued = this.pending.get(key);
      if (!queued || queued.rank < p.rank) this.pending.set(key, p);
    }
    this.o.log.info(
      { keys: this.latest.size },
      'cache connection back: sending the newest value of every key',
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.schedule();
  }

  static connect(c: CacheConnection, o: LatestCacheOptions): LatestCache {
    return new LatestCache(createCacheClient(c, 'market-pipeline-bridge'), o);
  }

  /** The latest tick per tenant+symbol of a committed batch. Never throws, never waits. */
  offerTicks(rows: readonly TickRow[]): void {
    // The newest row per key first, so that only those are serialized (a batch of 1000 ticks
    // holds a few symbols): this runs on the bridge's hot path.
    const newest = new Map<string, TickRow>();
    for (const r of rows) {
      const key = tickKey(r.tenant_id, r.symbol);
      const current = newest.get(key);
      if (!current || r.timestamp_ms > current.timestamp_ms) newest.set(key, r);
    }
    this.o.metrics.coalesced.inc(rows.length - newest.size);
    for (const [key, r] of newest) this.offer('tick', key, tickRank(r), this.ttlMs, r, cachedTick);
    this.schedule();
  }

  /** The latest bar per tenant+symbol+timeframe of a committed batch. Never throws, never waits. */
  offerBars(rows: readonly BarRow[]): void {
    for (const r of rows)
      this.offer(
        'bar',
        barKey(r.tenant_id, r.symbol, r.timeframe),
        barRank(r),
        this.ttlMs + (TIMEFRAME_MS[r.timeframe as Timeframe] ?? 0),
        r,
        cachedBar,
      );
    this.schedule();
  }

  /** Keys waiting to be written (for tests and the gauge). */
  get pendingKeys(): number {
    return this.pending.size;
  }

  /** Resolves when nothing is pending or in flight (tests; close). */
  async settled(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.pending.size > 0 || this.flushing) {
      if (Date.now() > until) return false;
      await (this.flushing ?? new Promise((r) => setTimeout(r, 20)));
    }
    return true;
  }

  /** Sends what is pending (briefly, if the server answers) and disconnects. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.closed) return;
    if (this.pending.size > 0 && this.redis.status === 'ready') {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.schedule();
      await this.settled(graceMs);
    }
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.flushing;
    this.redis.disconnect();
  }

  private offer<R>(
    kind: Kind,
    key: string,
    rank: string,
    ttlMs: number,
    row: R,
    toValue: (r: R) => unknown,
  ): void {
    if (this.closed) return;
    const seen = this.latest.get(key);
    // Older than what this bridge already sent or queued: the server would refuse it too.
    if (seen && seen.rank >= rank) return void this.o.metrics.coalesced.inc();
    if (!seen && this.latest.size >= MAX_PENDING_KEYS) return void this.o.metrics.dropped.inc();
    if (this.pending.has(key)) this.o.metrics.coalesced.inc();
    const entry = { kind, rank, ttlMs, value: JSON.stringify(toValue(row)) };
    this.latest.set(key, entry);
    this.pending.set(key, entry);
  }

  private schedule(): void {
    this.o.metrics.pending.set(this.pending.size);
    if (this.flushing || this.retryTimer || this.closed || this.pending.size === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (!this.retryTimer) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    // Taken out of the map, so offers during the flush start a new coalescing round.
    const batch: [string, Pending][] = [];
    for (const entry of this.pending) {
      batch.push(entry);
      this.pending.delete(entry[0]);
      if (batch.length >= FLUSH_KEYS) break;
    }
    const { metrics } = this.o;
    const retry: [string, Pending][] = [];
    let failure: unknown;
    try {
      // Not connected: fail at once (the client would refuse each command anyway).
      if (this.redis.status !== 'ready') throw new Error(`cache not connected (${this.redis.status})`);
      const pipeline = this.redis.pipeline();
      for (const [key, p] of batch) pipeline.storeIfNewer(key, p.rank, p.value, p.ttlMs);
      const results = (await pipeline.exec()) ?? [];
      let refused = 0;
      batch.forEach((entry, i) => {
        const [error, stored] = results[i] ?? [new Error('no reply')];
        if (!error) {
          metrics.updates.inc({ kind: entry[1].kind, outcome: stored === 1 ? 'stored' : 'older' });
        } else if (isReplyError(error)) {
          // The server refused this value (e.g. a key of another type): sending it again won't help.
          refused++;
          this.throttle.write(
            'warn',
            'cache_value',
            { key: entry[0], err: reasonOf(error) },
            'cache refused a value',
          );
        } else {
          retry.push(entry);
          failure ??= error;
        }
      });
      if (refused > 0) metrics.failures.inc(refused);
    } catch (error) {
      retry.push(...batch);
      failure = error;
    }
    try {
      if (retry.length === 0) {
        metrics.up.set(1);
        this.backoff.reset();
        return;
      }
      // The server is away or too slow: keep the newest value of each key for the next try.
      metrics.failures.inc(retry.length);
      metrics.up.set(0);
      for (const [key, p] of retry) {
        const newer = this.pending.get(key);
        if (!newer || newer.rank < p.rank) this.pending.set(key, p);
      }
      const delay = this.backoff.next();
      this.throttle.write(
        'warn',
        'cache_write',
        { keys: retry.length, err: reasonOf(failure), retryInMs: delay },
        'cache write failed; database writes go on, the newest values are sent when it returns',
      );
      if (!this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.schedule();
        }, delay);
        this.retryTimer.unref();
      }
    } finally {
      metrics.pending.set(this.pending.size);
    }
  }
}

/** An error reply of the server (as opposed to a connection failure or timeout). */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}
