// The bridge: JetStream → databases, the only writer of both. Two durable pull consumers
// shared by all replicas: MARKET_TICKS → PostgreSQL market_ticks, MARKET_BARS → ClickHouse
// aggregates. Wires the workers, the monitor (consumer lag, database probes), retention on
// plain PostgreSQL, and an orderly stop.
import { jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Registry } from 'prom-client';
import { createClickHouse } from '../db/clickhouse.js';
import { createPgPool } from '../db/postgres.js';
import { connectPipelineNats } from '../nats/connection.js';
import { pipelineNames, pipelineNamesOf } from '../contracts/subjects.js';
import { carriedTenant, newestCarriesTenant } from '../nats/seed-leftovers.js';
import { ensureStreams } from '../nats/streams.js';
import type { Logger } from '../runtime/logger.js';
import { reasonOf } from '../runtime/failure.js';
import type { ReadinessCheck } from '../runtime/ops-server.js';
import { Batch } from './batch.js';
import type { BridgeConfig } from './config.js';
import { BRIDGE_CONSUMERS, bridgeConsumers, ensureConsumer, type ConsumerSettings } from './consumers.js';
import { CoverageWriter } from './coverage-writer.js';
import { startCoverageMetrics } from './coverage-metrics.js';
import { DatabaseHealth } from './health.js';
import { createBridgeMetrics } from './metrics.js';
import { oldestUnackedAgeSeconds } from './oldest-unacked.js';
import { deleteExpiredTicks } from './retention.js';
import type { StreamKind } from './route.js';
import { barRow, tickRow, type BarRow, type TickRow } from './rows.js';
import { mostHeld, StreamWorker, type Held, type StreamWorkerOptions } from './stream-worker.js';
import { barWriter, tickWriter } from './writers.js';
import { afterCommit } from './after-commit.js';
import { tickStoreWorker } from './clickhouse-ticks.js';
import { createCacheMetrics, LatestCache } from '../cache/latest-cache.js';

export interface Bridge {
  /** Stops pulling, writes and acks what is held, closes every connection. */
  stop(): Promise<void>;
  /** Settles when the bridge has stopped (rejects if a worker failed unexpectedly). */
  done: Promise<void>;
  readiness: ReadinessCheck[];
}

const MONITOR_INTERVAL_MS = 5_000;

export async function startBridge(config: BridgeConfig, log: Logger, registry: Registry): Promise<Bridge> {
  const metrics = createBridgeMetrics(registry);
  // The pipeline's own streams, consumers and tenant: a bridge never reads another's.
  const names = pipelineNamesOf(config);
  const consumers = bridgeConsumers(names);
  const nats = await connectPipelineNats(config, names, 'market-pipeline-bridge', log);
  const jsm = await jetstreamManager(nats.nc);
  await ensureStreams(
    jsm,
    {
      maxAgeMs: config.NATS_STREAM_MAX_AGE_SECONDS * 1000,
      duplicateWindowMs: config.NATS_DUPLICATE_WINDOW_SECONDS * 1000,
    },
    names,
  );
  const writes = config.BRIDGE_WRITE_CONCURRENCY;
  const tickLanes = tickLanesOf(config);
  const barLanes = barLanesOf(config);
  const settings: Record<StreamKind, ConsumerSettings> = {
    ticks: { ackWaitMs: config.BRIDGE_ACK_WAIT, heldPerReplica: mostHeld(tickLanes, writes) },
    bars: { ackWaitMs: config.BRIDGE_ACK_WAIT, heldPerReplica: mostHeld(barLanes, writes) },
  };
  for (const kind of ['ticks', 'bars'] as const) await ensureConsumer(jsm, kind, settings[kind], consumers);
  const js = jetstream(nats.nc);

  const pool = createPgPool(config, 'market-pipeline-bridge');
  const ch = createClickHouse(config, 'market-pipeline-bridge');
  const pgHealth = new DatabaseHealth('postgres', metrics.databaseUp, log);
  const chHealth = new DatabaseHealth('clickhouse', metrics.databaseUp, log);
  // The latest-quote cache, fed after each commit (never awaited before an ack).
  const cache =
    config.DRAGONFLYDB_HOST === undefined
      ? undefined
      : LatestCache.connect(
          { ...config, DRAGONFLYDB_HOST: config.DRAGONFLYDB_HOST },
          { ttlSeconds: config.CACHE_TTL_SECONDS, log, metrics: createCacheMetrics(registry) },
        );

  const getConsumer = (kind: StreamKind) => async () => {
    await ensureConsumer(jsm, kind, settings[kind], consumers); // recreates it if it was deleted
    return js.consumers.get(consumers[kind].stream, consumers[kind].durable);
  };
  const common = {
    js,
    names,
    metrics,
    log,
    keepAliveMs: Math.floor(config.BRIDGE_ACK_WAIT / 3),
    maxConcurrentWrites: writes,
  };
  const ticks = new StreamWorker<TickRow>({
    ...common,
    kind: 'ticks',
    consumerName: consumers.ticks.durable,
    getConsumer: getConsumer('ticks'),
    lanes: tickLanes,
    // The row's tenant is the message's (routing verified it is the one this bridge serves).
    toRow: tickRowOf(names.tenantId),
    writer: afterCommit(tickWriter(pool), cache && ((rows) => cache.offerTicks(rows)), log),
    health: pgHealth,
  });
  const bars = new StreamWorker<BarRow>({
    ...common,
    kind: 'bars',
    consumerName: consumers.bars.durable,
    getConsumer: getConsumer('bars'),
    lanes: barLanes,
    toRow: barRowOf(names.tenantId),
    writer: afterCommit(barWriter(ch), cache && ((rows) => cache.offerBars(rows)), log),
    health: chHealth,
  });
  // The long-term tick store: its own durable on the tick stream (bridge/clickhouse-ticks.ts).
  const tickStore = config.CLICKHOUSE_TICKS_ENABLED
    ? await tickStoreWorker({
        common,
        jsm,
        consumers,
        ackWaitMs: config.BRIDGE_ACK_WAIT,
        batchSize: config.HISTORICAL_BATCH_SIZE,
        batchTimeoutMs: config.HISTORICAL_BATCH_TIMEOUT,
        ch,
        health: chHealth,
        toRow: tickRowOf(names.tenantId),
      })
    : undefined;
  const legacy = await legacyWorkers({
    ...common,
    jsm,
    config,
    pool,
    ch,
    pgHealth,
    chHealth,
    tenantId: names.tenantId,
    onLeave: (label) => monitor.unwatch(label),
  });
  const workers = [ticks, bars, ...(tickStore ? [tickStore.worker] : []), ...legacy.map((l) => l.worker)];
  // Coverage markers → feed_coverage (its own consumer; README "Coverage, watermark and precedence").
  const coverage = await CoverageWriter.start({ js, jsm, pool, names, log, metrics });
  const stopCoverageMetrics = startCoverageMetrics({ pool, jsm, names, registry, log });
  const done = Promise.all([...workers.map((w) => w.run()), coverage.done]).then(() => undefined);

  const watched = [
    ...Object.values(consumers).map((c) => ({ ...c, label: c.durable })),
    ...(tickStore ? [tickStore.consumer] : []),
    ...legacy.map((l) => l.consumer),
  ];
  const monitor = new Monitor(jsm, watched, pool, ch, pgHealth, chHealth, metrics, log);
  const monitorTimer = setInterval(() => void monitor.poll(), MONITOR_INTERVAL_MS);
  void monitor.poll();

  const stopRetention = new AbortController();
  let retentionRun: Promise<unknown> = Promise.resolve();
  const runRetention = () => {
    retentionRun = deleteExpiredTicks(
      pool,
      {
        tenantId: config.TENANT_ID,
        retentionDays: config.TIMESCALEDB_RETENTION_DAYS,
        signal: stopRetention.signal,
      },
      log,
    ).then(
      (outcome) => outcome.ran && metrics.retentionDeleted.inc(outcome.deleted),
      (error: Error) => log.warn({ err: error.message }, 'retention run failed; next run will retry'),
    );
  };
  runRetention();
  const retentionTimer = setInterval(() => {
    // One run at a time: a slow delete never overlaps the next one.
    void retentionRun.then(() => !stopRetention.signal.aborted && runRetention());
  }, config.BRIDGE_RETENTION_INTERVAL);

  log.info(
    {
      tenant: config.TENANT_ID,
      pipeline: names.pipelineId ?? '(seed names)',
      streams: [consumers.ticks.stream, consumers.bars.stream],
      live: { size: config.LIVE_BATCH_SIZE, timeoutMs: config.LIVE_BATCH_TIMEOUT },
      historical: { size: config.HISTORICAL_BATCH_SIZE, timeoutMs: config.HISTORICAL_BATCH_TIMEOUT },
      ackWaitMs: config.BRIDGE_ACK_WAIT,
      cache: config.DRAGONFLYDB_HOST ? `${config.DRAGONFLYDB_HOST}:${config.DRAGONFLYDB_PORT}` : 'off',
      clickhouseTicks: config.CLICKHOUSE_TICKS_ENABLED,
    },
    'bridge started',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const w of workers) w.stop();
      coverage.stop();
      stopCoverageMetrics();
      stopRetention.abort();
      clearInterval(retentionTimer);
      await done.catch(() => undefined);
      clearInterval(monitorTimer);
      await retentionRun;
      await monitor.idle();
      // drain() delivers the acks still buffered before closing.
      await nats.nc.drain().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await ch.close().catch(() => undefined);
      await cache?.close().catch(() => undefined);
      log.info('bridge stopped: in-flight batches written and acked');
    })());

  return {
    stop,
    done,
    readiness: [
      { name: 'nats', check: nats.notReady },
      { name: 'postgres', check: () => pgHealth.notReady() },
      { name: 'clickhouse', check: () => chHealth.notReady() },
    ],
  };
}

/**
 * The upgrade path of a pipeline that ran under the seed's names (MARKET_TICKS, MARKET_BARS,
 * durables bridge-ticks / bridge-bars) before it got a PIPELINE_ID: whatever its previous
 * bridge had not written yet is still in those streams. While such a durable exists, this
 * bridge drains it too, but only what the upgrade left behind: messages without a tenant_id
 * (published before tenants were carried), stored under this bridge's tenant as the previous
 * version did.
 *
 * The same durables are also those of a pipeline run by hand under the seed's names on the
 * same NATS, which is live and not this pipeline's. Its collector stamps a tenant_id on
 * every message, so a message that carries one proves such a publisher: the drain does not
 * start when the newest message of the stream carries one, and stops at the first one it
 * pulls (StreamWorker `claims`), handing it and the rest of that pull back with a nak
 * without delay. Nothing of the live pipeline is acked, dead-lettered or stored here; the
 * cost to it is one extra delivery of at most one pull (the bridge's consumers have no
 * max_deliver, so a counted redelivery never drops a message) and those few arrive out of
 * order (ticks have a unique key, bars a version: order does not matter). The worker also
 * stops when the durable or its stream is deleted (README: delete them once their lag is 0).
 */
async function legacyWorkers(o: {
  js: ReturnType<typeof jetstream>;
  jsm: JetStreamManager;
  names: { pipelineId: string | undefined };
  tenantId: string;
  config: BridgeConfig;
  pool: ReturnType<typeof createPgPool>;
  ch: ReturnType<typeof createClickHouse>;
  pgHealth: DatabaseHealth;
  chHealth: DatabaseHealth;
  metrics: ReturnType<typeof createBridgeMetrics>;
  log: Logger;
  keepAliveMs: number;
  maxConcurrentWrites: number;
  /** The drain of the consumer with this label stopped: it is a live pipeline's. */
  onLeave: (label: string) => void;
}): Promise<{ worker: StreamWorker<TickRow> | StreamWorker<BarRow>; consumer: WatchedConsumer }[]> {
  if (!o.names.pipelineId) return []; // under the seed's names those are this bridge's own consumers
  const seed = pipelineNames({ tenantId: o.tenantId });
  const found: { worker: StreamWorker<TickRow> | StreamWorker<BarRow>; consumer: WatchedConsumer }[] = [];
  for (const kind of ['ticks', 'bars'] as const) {
    const { stream, durable } = BRIDGE_CONSUMERS[kind];
    if (!(await o.jsm.consumers.info(stream, durable).catch(() => undefined))) continue;
    const newest = await newestCarriesTenant(o.jsm, stream);
    if (newest !== undefined) {
      o.log.info(
        { stream, durable, tenant: newest },
        'a pipeline under the seed names publishes with tenants: its consumer is not drained',
      );
      continue;
    }
    const label = `${durable} (seed names, draining)`;
    o.log.warn({ stream, durable }, 'draining what the previous version left under the seed names');
    const getConsumer = async () => {
      try {
        return await o.js.consumers.get(stream, durable);
      } catch (error) {
        if (/not found/i.test(reasonOf(error))) {
          o.log.info({ stream, durable }, 'seed-named consumer gone: drain finished');
          worker.stop();
        }
        throw error;
      }
    };
    const common = {
      js: o.js,
      names: seed,
      metrics: o.metrics,
      log: o.log,
      keepAliveMs: o.keepAliveMs,
      maxConcurrentWrites: o.maxConcurrentWrites,
      consumerName: label,
      getConsumer,
      // Only what was published before tenants were carried is the upgrade's leftover.
      claims: (msg: JsMsg) => carriedTenant(msg.data) === undefined,
      onLeave: (msg: JsMsg) => {
        o.log.warn(
          { stream, durable, seq: msg.seq, tenant: carriedTenant(msg.data) },
          'a live pipeline under the seed names uses this consumer: drain stopped, its messages left to it',
        );
        o.onLeave(label);
      },
    };
    const worker: StreamWorker<TickRow> | StreamWorker<BarRow> =
      kind === 'ticks'
        ? new StreamWorker<TickRow>({
            ...common,
            kind,
            lanes: tickLanesOf(o.config, DRAIN_BATCH),
            toRow: tickRowOf(o.tenantId),
            writer: tickWriter(o.pool),
            health: o.pgHealth,
          })
        : new StreamWorker<BarRow>({
            ...common,
            kind,
            lanes: barLanesOf(o.config, DRAIN_BATCH),
            toRow: barRowOf(o.tenantId),
            writer: barWriter(o.ch),
            health: o.chHealth,
          });
    found.push({ worker, consumer: { stream, durable, label } });
  }
  return found;
}

/**
 * The drain's batches (and so its pulls) are small: a live seed-named pipeline gets back at
 * most this many messages if it starts publishing while the drain runs.
 */
const DRAIN_BATCH = 100;

type LaneConfig = Pick<
  BridgeConfig,
  | 'LIVE_BATCH_SIZE'
  | 'LIVE_BATCH_TIMEOUT'
  | 'HISTORICAL_BATCH_SIZE'
  | 'HISTORICAL_BATCH_TIMEOUT'
  | 'BRIDGE_DRAINED_LINGER'
>;

/** A lane of the configured size (at most `maxSize`), wait and drained linger. */
function lane<R>(c: LaneConfig, name: string, size: number, waitMs: number, maxSize: number): Batch<Held<R>> {
  return new Batch<Held<R>>(name, Math.min(size, maxSize), waitMs, undefined, c.BRIDGE_DRAINED_LINGER);
}

function tickLanesOf(c: LaneConfig, maxSize = Infinity) {
  return { live: lane<TickRow>(c, 'ticks', c.LIVE_BATCH_SIZE, c.LIVE_BATCH_TIMEOUT, maxSize) };
}

function barLanesOf(c: LaneConfig, maxSize = Infinity) {
  return {
    live: lane<BarRow>(c, 'bars_live', c.LIVE_BATCH_SIZE, c.LIVE_BATCH_TIMEOUT, maxSize),
    historical: lane<BarRow>(
      c,
      'bars_historical',
      c.HISTORICAL_BATCH_SIZE,
      c.HISTORICAL_BATCH_TIMEOUT,
      maxSize,
    ),
  };
}

/** A tick's row under the tenant it carries (routing checked it is one this bridge serves), else `tenantId`. */
function tickRowOf(tenantId: string): StreamWorkerOptions<TickRow>['toRow'] {
  return (r) => (r.kind === 'tick' ? tickRow(r.tick, r.tick.tenant_id ?? tenantId) : unexpected(r.kind));
}

function barRowOf(tenantId: string): StreamWorkerOptions<BarRow>['toRow'] {
  return (r) => (r.kind === 'bar' ? barRow(r.bar, r.bar.tenant_id ?? tenantId) : unexpected(r.kind));
}

interface WatchedConsumer {
  stream: string;
  durable: string;
  /** The consumer label of the lag metric. */
  label: string;
}

function unexpected(kind: string): never {
  throw new Error(`routing produced a ${kind} on the wrong stream`);
}

/** Consumer lag, the oldest unacknowledged message's age and database probes, every few seconds (one poll at a time). */
class Monitor {
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private readonly unwatched = new Set<string>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly consumers: WatchedConsumer[],
    private readonly pool: ReturnType<typeof createPgPool>,
    private readonly ch: ReturnType<typeof createClickHouse>,
    private readonly pgHealth: DatabaseHealth,
    private readonly chHealth: DatabaseHealth,
    private readonly metrics: ReturnType<typeof createBridgeMetrics>,
    private readonly log: Logger,
  ) {}

  poll(): Promise<void> {
    if (this.busy) return this.running;
    this.busy = true;
    this.running = this.pollOnce().finally(() => (this.busy = false));
    return this.running;
  }

  idle(): Promise<void> {
    return this.running;
  }

  /** Stops reporting a consumer's lag (a drain that stopped: the lag is another pipeline's). */
  unwatch(label: string): void {
    this.unwatched.add(label);
    this.metrics.consumerLag.remove({ consumer: label });
  }

  private async pollOnce(): Promise<void> {
    await Promise.all([
      ...this.consumers.map(async (c) => {
        if (this.unwatched.has(c.label)) return;
        try {
          const info = await this.jsm.consumers.info(c.stream, c.durable);
          this.metrics.consumerLag.set({ consumer: c.label }, info.num_pending + info.num_ack_pending);
          const age = await oldestUnackedAgeSeconds(this.jsm, c.stream, info, Date.now());
          this.metrics.oldestUnackedAge.set({ consumer: c.label }, age);
        } catch (error) {
          this.log.debug({ consumer: c.durable, err: reasonOf(error) }, 'consumer info failed');
        }
      }),
      this.pool.query('SELECT 1').then(
        () => this.pgHealth.up(),
        (error: unknown) => this.pgHealth.down(error),
      ),
      this.ch.ping().then((ping) => (ping.success ? this.chHealth.up() : this.chHealth.down(ping.error))),
    ]);
  }
}
