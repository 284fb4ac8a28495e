// `market-pipeline aggregate --timeframe <tf>`: a run-to-completion job (one Kubernetes
// CronJob per timeframe). It reads ticks from TimescaleDB, lets the database build the
// OHLCV bars, publishes them to NATS (and archives them to Kafka), logs one summary line
// and exits: 0 on success, 2 on bad arguments or configuration, 1 when a run fails. The
// CronJob's status (lastSuccessfulTime) is the record of the last successful run.
import type { z } from 'zod';
import { aggregatorEnv, kafkaEnv, marketEnv, natsEnv, opsEnv, timescaleEnv } from '../contracts/env.js';
import { runAggregation, type AggregationSummary } from '../aggregator/aggregation.js';
import { AGGREGATE_USAGE, parseAggregateArgs, type AggregateArgs } from '../aggregator/args.js';
import { asStep } from '../runtime/failure.js';
import { barCount, explicitWindow, scheduledWindow, type BarWindow } from '../aggregator/window.js';
import { createPgPool } from '../db/postgres.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { awaitCoverage } from '../aggregator/coverage.js';
import { lateBars, saveCursor, type LateBars } from '../aggregator/late-ticks.js';
import { partialBarWindows, recordPartialBars } from '../aggregator/partial-bars.js';
import type { Timeframe } from '../contracts/timeframes.js';
import type { Shutdown } from '../runtime/shutdown.js';
import { connectJobJetStream, openBarArchive, prepareJob, runJob } from './job-support.js';

export const aggregateConfigSchema = natsEnv
  .extend(kafkaEnv.shape)
  .extend(timescaleEnv.shape)
  .extend(marketEnv.shape)
  .extend(aggregatorEnv.shape)
  .extend({ LOG_LEVEL: opsEnv.shape.LOG_LEVEL });
export type AggregateConfig = z.infer<typeof aggregateConfigSchema>;

const SERVICE = 'market-pipeline-aggregator';

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
  const prepared = prepareJob(
    'aggregate',
    AGGREGATE_USAGE,
    parseAggregateArgs,
    aggregateConfigSchema,
    args,
    env,
  );
  if (!prepared.ok) return prepared.exitCode;
  const { args: parsed, config } = prepared;

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

  // On a signal the run stops between chunks; bars already confirmed stay, and the next run
  // or a retry rebuilds the rest.
  return runJob('aggregation', log, async (shutdown) => {
    const summary = await aggregate(config, windows, parsed.fromMs === undefined, log, shutdown);
    log.info(
      { windows: windowFields, ...summary, queryMs: Math.round(summary.queryMs) },
      summaryLine(parsed, summary, config.SYMBOLS),
    );
    return 0;
  });
}

export interface RunSummary extends AggregationSummary {
  /** Bars rebuilt because ticks of theirs were committed after they were built. */
  lateBars: number;
  /** Per symbol, seconds of the run's window (hours that must be covered) not covered and committed. */
  uncoveredSeconds: Record<string, number>;
}

async function aggregate(
  config: AggregateConfig,
  windows: BarWindow[],
  scheduled: boolean,
  log: Logger,
  shutdown: Shutdown,
): Promise<RunSummary> {
  const pool = createPgPool(config, SERVICE);
  shutdown.add('PostgreSQL pool', () => pool.end());
  const db = `PostgreSQL at ${config.TIMESCALEDB_HOST}:${config.TIMESCALEDB_PORT}/${config.TIMESCALEDB_DATABASE}`;
  await asStep(db, () => pool.query('SELECT 1'));
  const { js, jsm, names } = await connectJobJetStream(config, SERVICE, log, shutdown);
  const archive = await openBarArchive(config, shutdown);

  // Late ticks (late-ticks.ts): only scheduled runs follow the cursor; --from/--to builds what it is told.
  const late: { timeframe: Timeframe; found: LateBars }[] = [];
  // Bars published partial before: built again until complete (partial-bars.ts).
  const retried: BarWindow[] = [];
  if (scheduled) {
    for (const w of windows) {
      const found = await asStep(`${db}: late ticks`, () =>
        lateBars(pool, {
          tenantId: config.TENANT_ID,
          symbols: config.SYMBOLS,
          timeframe: w.timeframe,
          beforeMs: w.start,
        }),
      );
      late.push({ timeframe: w.timeframe, found });
      retried.push(
        ...(await asStep(`${db}: partial bars`, () =>
          partialBarWindows(pool, config.TENANT_ID, w.timeframe, w.start),
        )),
      );
    }
  }
  const lateWindows = late.flatMap((l) => l.found.windows);
  const open = windows.filter((w) => w.end > w.start);
  const all = mergeWindows([...open, ...lateWindows, ...retried]);
  if (lateWindows.length > 0)
    log.info({ lateWindows: describeWindowList(lateWindows) }, 'rebuilding bars of late ticks');

  // Coverage and the watermark (coverage.ts): bars not covered and committed are partial.
  const from = Math.min(...all.map((w) => w.start));
  const to = Math.max(...all.map((w) => w.end));
  const coverage =
    all.length === 0
      ? undefined
      : await asStep(`${db}: coverage`, () =>
          awaitCoverage(
            { pool, jsm, names, tenantId: config.TENANT_ID, hours: config.AGGREGATE_COVERAGE_HOURS },
            config.SYMBOLS,
            from,
            to,
            config.AGGREGATE_WATERMARK_WAIT_SECONDS * 1000,
            shutdown.signal,
          ),
        );
  const summary = await runAggregation(
    {
      windows: all,
      tenantId: config.TENANT_ID,
      symbols: config.SYMBOLS,
      pipSizes: config.PIP_SIZES,
      isPartial: coverage && ((bar) => !coverage.complete(bar.symbol, bar.timeframe, bar.startMs)),
    },
    { pool, js, jsm, archive, names, log, signal: shutdown.signal },
  );
  await asStep(`${db}: partial bars`, () =>
    recordPartialBars(pool, config.TENANT_ID, all, summary.partialBars ?? []),
  );
  // The bars of the late ticks are published: move each timeframe's cursor past them.
  for (const l of late)
    await asStep(`${db}: late-tick cursor`, () =>
      saveCursor(pool, config.TENANT_ID, l.timeframe, l.found.upto),
    );

  const uncoveredSeconds: Record<string, number> = {};
  const scheduledFrom = Math.min(...open.map((w) => w.start));
  const scheduledTo = Math.max(...open.map((w) => w.end));
  for (const symbol of config.SYMBOLS) {
    uncoveredSeconds[symbol] =
      coverage && open.length > 0
        ? Math.round(coverage.uncoveredMs(symbol, scheduledFrom, scheduledTo) / 1000)
        : 0;
  }
  const lateBarCount = lateWindows.reduce((n, w) => n + barCount(w), 0);
  return { ...summary, lateBars: lateBarCount, uncoveredSeconds };
}

/** Windows of one timeframe that overlap or touch are joined (scanChunks wants them disjoint). */
function mergeWindows(windows: readonly BarWindow[]): BarWindow[] {
  const sorted = [...windows].sort((a, b) => a.timeframe.localeCompare(b.timeframe) || a.start - b.start);
  const out: BarWindow[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && last.timeframe === w.timeframe && w.start <= last.end) last.end = Math.max(last.end, w.end);
    else out.push({ ...w });
  }
  return out;
}

function describeWindowList(windows: readonly BarWindow[]): string[] {
  return windows.map(
    (w) => `${w.timeframe} ${new Date(w.start).toISOString()}..${new Date(w.end).toISOString()}`,
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
export function summaryLine(
  args: AggregateArgs,
  s: AggregationSummary & Partial<Pick<RunSummary, 'lateBars'>>,
  symbols: readonly string[],
): string {
  const perSymbol = symbols.map((sym) => `${sym} ${s.barsBySymbol[sym] ?? 0}`).join(', ');
  const archive =
    s.archived === undefined
      ? 'Kafka archive off'
      : `archived ${s.archived} (${s.alreadyArchived} already archived)`;
  return (
    `aggregated ${args.timeframes.join(',')}: ${s.bars} bars (${perSymbol}); ` +
    `published ${s.published} (${s.duplicates} duplicates); ${s.partial} partial; ` +
    `${s.lateBars ?? 0} rebuilt for late ticks; ${archive}`
  );
}
