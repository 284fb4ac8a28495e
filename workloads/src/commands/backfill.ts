// `market-pipeline backfill`: the historical gap filler, a run-to-completion job (the
// <name>-backfill CronJob). Repairs recorded feed gaps, fills the gaps in ClickHouse from
// Polygon REST, publishes the bars to NATS (and Kafka) for the bridge to store, prints a
// summary and exits: 0 on success, 2 on bad arguments or configuration, 1 when the run
// failed (the last log line names the system and the reason).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EXIT_USAGE } from '../cli.js';
import { asStep, reasonOf } from '../aggregator/failure.js';
import { BACKFILL_USAGE, UsageError, parseBackfillArgs, type BackfillArgs } from '../backfill/args.js';
import { runBackfill, type BackfillSummary } from '../backfill/backfill.js';
import { backfillConfigSchema, type BackfillConfig } from '../backfill/config.js';
import { FeedGapInbox } from '../backfill/feed-gaps.js';
import { PolygonRestClient, type PolygonRestOptions } from '../backfill/polygon-rest.js';
import { LogProgress, TerminalProgress, type Progress } from '../backfill/progress.js';
import { TokenBucket } from '../backfill/token-bucket.js';
import { createClickHouse } from '../db/clickhouse.js';
import { ArchiveProducer } from '../kafka/archive-producer.js';
import { connectNats, redactUrl } from '../nats/connection.js';
import { ensureStreams } from '../nats/streams.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { Shutdown } from '../runtime/shutdown.js';

const SERVICE = 'market-pipeline-backfill';
const EXIT_FAILED = 1;
const LEDGER_TABLES = [
  'aggregates',
  'backfill_empty_ranges',
  'backfill_coverage',
  'backfill_feed_gap_repairs',
];

export interface RunOptions {
  /** Logger instead of the JSON logger on stdout (tests read the summary from it). */
  log?: Logger;
  progress?: Progress;
  /** The clock for the scan windows (tests that run twice at the same instant). */
  nowMs?: number;
  /** Settings of the REST client a test wants different (small pages, short backoff). */
  rest?: Pick<PolygonRestOptions, 'pageLimit' | 'serverBackoff' | 'maxServerRetries'>;
}

export async function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: RunOptions = {},
): Promise<number> {
  let parsed: BackfillArgs;
  let config: BackfillConfig;
  try {
    parsed = parseBackfillArgs(args);
    if (parsed.help) {
      console.log(BACKFILL_USAGE);
      return 0;
    }
    config = loadConfig(backfillConfigSchema, env);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`market-pipeline backfill: ${error.message}\n\n${BACKFILL_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      console.error(`market-pipeline backfill: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }

  // On a terminal the progress bars stay at the bottom and log lines go above them.
  const terminal = options.progress === undefined && !options.log && process.stdout.isTTY;
  const progressBars = terminal ? new TerminalProgress() : undefined;
  const log =
    options.log ??
    createLogger(
      SERVICE,
      config.LOG_LEVEL,
      progressBars && { write: (line: string) => progressBars.printAbove(line) },
    );
  const nowMs = options.nowMs ?? Date.now();
  const explicit = parsed.fromMs === undefined ? undefined : { fromMs: parsed.fromMs, toMs: parsed.toMs };
  log.info(
    {
      symbols: config.SYMBOLS,
      timeframes: config.BACKFILL_TIMEFRAMES,
      from: explicit && new Date(explicit.fromMs).toISOString(),
      to: explicit?.toMs === undefined ? undefined : new Date(explicit.toMs).toISOString(),
      windowDays: config.BACKFILL_WINDOW_DAYS,
      recentDays: config.BACKFILL_RECENT_DAYS,
      restUrl: config.POLYGON_REST_URL,
      requestsPerMinute: config.POLYGON_REST_REQUESTS_PER_MINUTE,
    },
    'backfill starting',
  );

  // SIGTERM: stop between requests; bars already published stay, events stay unacked.
  const shutdown = new Shutdown(log);
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'stopping the run');
    void shutdown.run();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const summary = await backfill(config, explicit, nowMs, log, shutdown, {
      ...options,
      progress: options.progress ?? progressBars,
    });
    const line = summaryLine(summary);
    log.info(summary, line);
    progressBars?.printAbove(line);
    if (summary.failedSeries.length === 0) return 0;
    const reason = `${summary.failedSeries.length} series failed: ${summary.failedSeries.join('; ')}`;
    log.error({ failedSeries: summary.failedSeries }, `backfill failed: ${reason}`);
    progressBars?.printAbove(`backfill failed: ${reason}`);
    return EXIT_FAILED;
  } catch (error) {
    const reason = shutdown.shuttingDown
      ? `interrupted by a shutdown signal (${reasonOf(error)})`
      : reasonOf(error);
    log.error({ err: error }, `backfill failed: ${reason}`);
    progressBars?.printAbove(`backfill failed: ${reason}`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await shutdown.run();
  }
}

async function backfill(
  config: BackfillConfig,
  explicit: { fromMs: number; toMs?: number } | undefined,
  nowMs: number,
  log: Logger,
  shutdown: Shutdown,
  options: RunOptions,
): Promise<BackfillSummary> {
  const ch = createClickHouse(config, SERVICE);
  shutdown.add('ClickHouse client', () => ch.close());
  const chWhere = `ClickHouse at ${config.CLICKHOUSE_HOST}:${config.CLICKHOUSE_PORT}/${config.CLICKHOUSE_DATABASE}`;
  await asStep(chWhere, async () => {
    const result = await ch.query({
      query:
        'SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN ({names:Array(String)})',
      query_params: { names: LEDGER_TABLES },
      format: 'JSONEachRow',
    });
    const found = new Set((await result.json<{ name: string }>()).map((r) => r.name));
    const missing = LEDGER_TABLES.filter((t) => !found.has(t));
    if (missing.length > 0)
      throw new Error(`table(s) ${missing.join(', ')} missing: run market-pipeline migrate`);
  });

  const natsWhere = `NATS at ${redactUrl(config.NATS_URL)}`;
  const nats = await asStep(natsWhere, () =>
    connectNats(config.NATS_URL, SERVICE, log, { waitOnFirstConnect: false, maxReconnectAttempts: 10 }),
  );
  shutdown.add('NATS connection', () => nats.nc.close());
  const js = jetstream(nats.nc);
  const feedGaps = await asStep(`${natsWhere}: JetStream`, async () => {
    const jsm = await jetstreamManager(nats.nc);
    await ensureStreams(jsm, {
      maxAgeMs: config.NATS_STREAM_MAX_AGE_SECONDS * 1000,
      duplicateWindowMs: config.NATS_DUPLICATE_WINDOW_SECONDS * 1000,
    });
    return FeedGapInbox.open(js, jsm, log);
  });

  let archive: { producer: ArchiveProducer; topic: string } | undefined;
  if (config.KAFKA_BROKERS) {
    const producer = new ArchiveProducer({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID });
    shutdown.add('Kafka producer', () => producer.close());
    const topic = config.KAFKA_AGGREGATE_TOPIC;
    await asStep(`Kafka at ${config.KAFKA_BROKERS.join(',')}: topic ${topic}`, () =>
      producer.ensureTopics([topic]),
    );
    archive = { producer, topic };
  }

  const rest = new PolygonRestClient({
    baseUrl: config.POLYGON_REST_URL,
    apiKey: config.POLYGON_API_KEY,
    bucket: new TokenBucket(config.POLYGON_REST_REQUESTS_PER_MINUTE),
    requestsPerMinute: config.POLYGON_REST_REQUESTS_PER_MINUTE,
    log,
    signal: shutdown.signal,
    ...options.rest,
  });
  const progress = options.progress ?? new LogProgress(log);
  return runBackfill(
    {
      tenantId: config.TENANT_ID,
      symbols: config.SYMBOLS,
      timeframes: config.BACKFILL_TIMEFRAMES,
      pipSizes: config.PIP_SIZES,
      nowMs,
      windowDays: config.BACKFILL_WINDOW_DAYS,
      recentDays: config.BACKFILL_RECENT_DAYS,
      settleMs: config.BACKFILL_SETTLE_MINUTES * 60_000,
      explicit,
    },
    { ch, rest, sink: { js, archive }, feedGaps, progress, log },
  );
}

/** The one line an operator reads. */
export function summaryLine(s: BackfillSummary): string {
  return (
    `backfill done: ${s.gapsFound} gaps (${s.missingBars} bars) found, ${s.rangesRequested} ranges requested ` +
    `(${s.rangesEmpty} answered empty, ${s.restRequests} HTTP requests), ${s.barsPublished} bars published` +
    `${s.duplicates ? ` (${s.duplicates} already in the stream)` : ''}, ${s.barsAnsweredEmpty} bars recorded as empty; ` +
    `feed gaps: ${s.feedGapEvents} events, ${s.repairsPublished} repairs published, ${s.repairsWaiting} waiting` +
    `${s.barsRejected ? `; ${s.barsRejected} bars rejected` : ''}`
  );
}
