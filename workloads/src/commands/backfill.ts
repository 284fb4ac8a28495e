// `market-pipeline backfill`: the historical gap filler, a run-to-completion job (the
// <name>-backfill CronJob). Repairs recorded feed gaps, fills the gaps in ClickHouse from
// Polygon REST, publishes the bars to NATS (and Kafka) for the bridge to store, prints a
// summary and exits: 0 on success, 2 on bad arguments or configuration, 1 when the run
// failed (the last log line names the system and the reason).
import { asStep } from '../runtime/failure.js';
import { BACKFILL_USAGE, parseBackfillArgs } from '../backfill/args.js';
import { runBackfill, type BackfillSummary } from '../backfill/backfill.js';
import { backfillConfigSchema, type BackfillConfig } from '../backfill/config.js';
import { FeedGapInbox } from '../backfill/feed-gaps.js';
import { PolygonRestClient, type PolygonRestOptions } from '../backfill/polygon-rest.js';
import { LogProgress, TerminalProgress, type Progress } from '../backfill/progress.js';
import { TokenBucket } from '../backfill/token-bucket.js';
import { createClickHouse } from '../db/clickhouse.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import type { Shutdown } from '../runtime/shutdown.js';
import { EXIT_FAILED, connectJobJetStream, openBarArchive, prepareJob, runJob } from './job-support.js';

const SERVICE = 'market-pipeline-backfill';
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
  const prepared = prepareJob('backfill', BACKFILL_USAGE, parseBackfillArgs, backfillConfigSchema, args, env);
  if (!prepared.ok) return prepared.exitCode;
  const { args: parsed, config } = prepared;

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

  // On a signal the run stops between requests; bars already published stay, feed-gap
  // events stay unacked (redelivered to the next run).
  return runJob(
    'backfill',
    log,
    async (shutdown) => {
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
    },
    (line) => progressBars?.printAbove(line),
  );
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

  const { js, jsm, where, names } = await connectJobJetStream(config, SERVICE, log, shutdown);
  const feedGaps = await asStep(`${where}: feed gaps`, () => FeedGapInbox.open(js, jsm, names, log));
  const archive = await openBarArchive(config, shutdown);

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
    { ch, rest, sink: { js, archive, names }, feedGaps, progress, log },
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
