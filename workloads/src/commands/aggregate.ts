// `market-pipeline aggregate --timeframe <tf>`: a run-to-completion job (one Kubernetes
// CronJob per timeframe). It reads ticks from TimescaleDB, lets the database build the
// OHLCV bars, publishes them to NATS (and archives them to Kafka), logs one summary line
// and exits: 0 on success, 2 on bad arguments or configuration, 1 when a run fails. The
// CronJob's status (lastSuccessfulTime) is the record of the last successful run.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { z } from 'zod';
import { EXIT_USAGE } from '../cli.js';
import { aggregatorEnv, kafkaEnv, marketEnv, natsEnv, opsEnv, timescaleEnv } from '../contracts/env.js';
import { runAggregation, type AggregationSummary } from '../aggregator/aggregation.js';
import { AGGREGATE_USAGE, UsageError, parseAggregateArgs, type AggregateArgs } from '../aggregator/args.js';
import { asStep, reasonOf } from '../aggregator/failure.js';
import { explicitWindow, scheduledWindow, type BarWindow } from '../aggregator/window.js';
import { createPgPool } from '../db/postgres.js';
import type { ArchiveProducer } from '../kafka/archive-producer.js';
import { connectNats, redactUrl } from '../nats/connection.js';
import { ensureStreams } from '../nats/streams.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { Shutdown } from '../runtime/shutdown.js';

export const aggregateConfigSchema = natsEnv
  .extend(kafkaEnv.shape)
  .extend(timescaleEnv.shape)
  .extend(marketEnv.shape)
  .extend(aggregatorEnv.shape)
  .extend({ LOG_LEVEL: opsEnv.shape.LOG_LEVEL });
export type AggregateConfig = z.infer<typeof aggregateConfigSchema>;

const SERVICE = 'market-pipeline-aggregator';
const EXIT_FAILED = 1;

/** The bar windows of this run: the scheduled window, or --from/--to re-aggregation. */
export function planWindows(args: AggregateArgs, lookbackBars: number, nowMs: number): BarWindow[] {
  return args.timeframes.map((tf) =>
    args.fromMs === undefined
      ? scheduledWindow(tf, nowMs, lookbackBars)
      : explicitWindow(tf, args.fromMs, args.toMs ?? nowMs, nowMs),
  );
}

export interface RunOptions {
  /** Logger to use instead of the JSON logger on stdout (tests read the summary from it). */
  log?: Logger;
}

export async function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: RunOptions = {},
): Promise<number> {
  let parsed: AggregateArgs;
  let config: AggregateConfig;
  try {
    parsed = parseAggregateArgs(args);
    if (parsed.help) {
      console.log(AGGREGATE_USAGE);
      return 0;
    }
    config = loadConfig(aggregateConfigSchema, env);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`market-pipeline aggregate: ${error.message}\n\n${AGGREGATE_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      console.error(`market-pipeline aggregate: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }

  const log = options.log ?? createLogger(SERVICE, config.LOG_LEVEL);
  const nowMs = parsed.nowMs ?? Date.now();
  const windows = planWindows(parsed, config.AGGREGATE_LOOKBACK_BARS, nowMs);
  const windowFields = describeWindows(windows);
  if (parsed.toMs !== undefined) {
    for (const w of windows) {
      if (explicitWindow(w.timeframe, parsed.fromMs!, parsed.toMs, nowMs).clampedToNow) {
        log.warn(
          { timeframe: w.timeframe, end: windowFields[w.timeframe]!.end },
          '--to cut to the last closed bar',
        );
      }
    }
  }
  log.info({ windows: windowFields, now: new Date(nowMs).toISOString() }, 'aggregation starting');

  // SIGTERM (a node drained, the job deleted): stop between chunks and close the
  // connections. Bars already confirmed stay; the next run or a retry rebuilds the rest.
  const shutdown = new Shutdown(log);
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'stopping the run');
    void shutdown.run();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const summary = await aggregate(config, windows, log, shutdown);
    log.info(
      { windows: windowFields, ...summary, queryMs: Math.round(summary.queryMs) },
      summaryLine(parsed, summary, config.SYMBOLS),
    );
    return 0;
  } catch (error) {
    const message = shutdown.shuttingDown
      ? `interrupted by a shutdown signal (${reasonOf(error)})`
      : reasonOf(error);
    log.error({ err: error, windows: windowFields }, `aggregation failed: ${message}`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await shutdown.run();
  }
}

async function aggregate(
  config: AggregateConfig,
  windows: BarWindow[],
  log: Logger,
  shutdown: Shutdown,
): Promise<AggregationSummary> {
  const pool = createPgPool(config, SERVICE);
  shutdown.add('PostgreSQL pool', () => pool.end());
  const db = `PostgreSQL at ${config.TIMESCALEDB_HOST}:${config.TIMESCALEDB_PORT}/${config.TIMESCALEDB_DATABASE}`;
  await asStep(db, () => pool.query('SELECT 1'));

  const natsWhere = `NATS at ${redactUrl(config.NATS_URL)}`;
  // A job fails fast when NATS is down (the CronJob retries it), but rides out a short
  // disconnect while publishing.
  const nats = await asStep(natsWhere, () =>
    connectNats(config.NATS_URL, SERVICE, log, { waitOnFirstConnect: false, maxReconnectAttempts: 10 }),
  );
  shutdown.add('NATS connection', () => nats.nc.close());
  const jsm = await asStep(`${natsWhere}: JetStream`, async () => {
    const manager = await jetstreamManager(nats.nc);
    await ensureStreams(manager, {
      maxAgeMs: config.NATS_STREAM_MAX_AGE_SECONDS * 1000,
      duplicateWindowMs: config.NATS_DUPLICATE_WINDOW_SECONDS * 1000,
    });
    return manager;
  });

  let archive: { producer: ArchiveProducer; topic: string } | undefined;
  if (config.KAFKA_BROKERS) {
    // Loaded only when archiving is on: the Kafka client takes ~0.5 s to load (schema compilation).
    const { ArchiveProducer: Producer } = await import('../kafka/archive-producer.js');
    const producer = new Producer({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID });
    shutdown.add('Kafka producer', () => producer.close());
    const topic = config.KAFKA_AGGREGATE_TOPIC;
    await asStep(`Kafka at ${config.KAFKA_BROKERS.join(',')}: topic ${topic}`, () =>
      producer.ensureTopics([topic]),
    );
    archive = { producer, topic };
  }

  return runAggregation(
    { windows, tenantId: config.TENANT_ID, symbols: config.SYMBOLS, pipSizes: config.PIP_SIZES },
    { pool, js: jetstream(nats.nc), jsm, archive, log, signal: shutdown.signal },
  );
}

function describeWindows(windows: BarWindow[]): Record<string, { start: string; end: string }> {
  return Object.fromEntries(
    windows.map((w) => [
      w.timeframe,
      { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() },
    ]),
  );
}

/** The one line an operator reads: bars per symbol (zeros included: a silent feed shows). */
export function summaryLine(args: AggregateArgs, s: AggregationSummary, symbols: readonly string[]): string {
  const perSymbol = symbols.map((sym) => `${sym} ${s.barsBySymbol[sym] ?? 0}`).join(', ');
  const archive =
    s.archived === undefined
      ? 'Kafka archive off'
      : `archived ${s.archived} (${s.alreadyArchived} already archived)`;
  return (
    `aggregated ${args.timeframes.join(',')}: ${s.bars} bars (${perSymbol}); ` +
    `published ${s.published} (${s.duplicates} duplicates); ${archive}`
  );
}
